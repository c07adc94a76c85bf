/**
 * `kunit-bridge run`: boot a kernel with KUnit tests in QEMU (one or several
 * instances), show results live, leave the raw console logs and the reports
 * behind whatever happens. A library function: no argv, no process.exit.
 *
 * The run's life, one module a step (runner/run/): prepare (usage errors
 * before anything starts), plan the lanes, boot them, finish (merge, gate,
 * reports, exit code).
 */
import type { RunOutcome, RunRequest } from '../run-request.js';
import { Booter } from '../run/boot.js';
import { finishRun } from '../run/finish.js';
import { runLanes } from '../run/lanes.js';
import { listTests } from '../run/list.js';
import { KernelLists, planRun, userKunit } from '../run/plan.js';
import { prepareRun, startAgentServer } from '../run/prepare.js';

export type { RunOutcome, RunRequest } from '../run-request.js';

export async function runCommand(req: RunRequest): Promise<RunOutcome> {
  const warn = req.warn ?? ((m: string) => process.stderr.write(`kunit-bridge: ${m}\n`));
  if (req.target !== undefined) return (await import('../ssh/run-target.js')).runTarget({ ...req, target: req.target }, warn);
  const ctx = await prepareRun(req, warn);
  const agentServer = await startAgentServer(ctx);
  try {
    const booter = new Booter(ctx, agentServer);
    const lists = new KernelLists(ctx, booter);
    if (req.list) return await listTests(ctx, lists, booter);

    const jobs = Math.max(1, req.jobs ?? 1);
    const plan = await planRun(ctx, lists, jobs);
    booter.lanesTotal = plan.lanes.length;
    req.onPlan?.(plan.lanes, plan.suites, {
      arch: ctx.arch,
      kernel: ctx.kernel,
      accel: booter.accel,
      qemu: ctx.qemu,
      outputDir: ctx.outputDir,
      ...(ctx.useAgent ? { agent: 'yes', modules: String(ctx.queue.all.length), repeat: String(ctx.repeat) } : {}),
    });

    const single = plan.lanes.length === 1 && !req.shard;
    const laneResults = await runLanes({
      req,
      lanes: plan.lanes,
      jobs,
      single,
      useAgent: ctx.useAgent,
      user: userKunit(req),
      booter,
      lists,
    });
    return await finishRun(ctx, { plan, laneResults, single, booter, lists });
  } finally {
    await agentServer?.stop();
  }
}
