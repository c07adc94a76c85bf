/** `--list`: the kernel's tests (a shard's, with `--shard K/N`), listed by a listing boot; nothing run. */
import { exitCodeForSignal, ExitCode } from '../exit-codes.js';
import { emptyCounts, type RunResult } from '../ktap/model.js';
import type { RunOutcome } from '../run-request.js';
import { guessCost } from '../shard.js';
import { planShardLanes } from '../shard-run.js';
import type { Booter } from './boot.js';
import type { KernelLists } from './plan.js';
import type { RunContext } from './prepare.js';

export async function listTests(ctx: RunContext, lists: KernelLists, booter: Booter): Promise<RunOutcome> {
  const { req, shardTimings } = ctx;
  const all = await lists.getList();
  // `--shard K/N --list`: the tests of that shard.
  const mine = req.shard
    ? new Set(
        planShardLanes({
          suites: all,
          universe: all,
          modules: [],
          spec: req.shard,
          jobs: 1,
          splitLanes: false,
          laneCost: guessCost,
          ...(shardTimings ? { timings: shardTimings } : {}),
        }).info.expected,
      )
    : undefined;
  const listed = mine ? all.filter((s) => mine.has(s.name)) : all;
  const result: RunResult = {
    documents: [],
    diagnostics: [],
    counts: emptyCounts(),
    verdict: listed.length ? 'passed' : 'no-tests',
    lines: 0,
    metadata: {},
  };
  return {
    result,
    exitCode: req.signal?.aborted ? exitCodeForSignal(req.signal.reason) : listed.length ? ExitCode.OK : ExitCode.INCOMPLETE,
    outputDir: ctx.outputDir,
    rawLogs: booter.rawLogs,
    listed,
  };
}
