/**
 * The run's end: the lanes' results merged into one, the run's metadata,
 * the timings for the next plan, the gate, results.json and the reports,
 * and the exit code.
 */
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { foldAttempts } from '../agent/attempts.js';
import { readCache, writeCache } from '../cache.js';
import { BridgeError } from '../errors.js';
import { exitCodeFor, exitCodeForSignal } from '../exit-codes.js';
import { bannerMetadata } from '../kernel-version.js';
import { emptyCounts, type RunResult } from '../ktap/model.js';
import { mergeLanes } from '../merge.js';
import type { RunOutcome } from '../run-request.js';
import { shardScope } from '../shard-run.js';
import { saveTimings } from '../timings.js';
import type { Booter } from './boot.js';
import type { LaneResult } from './lanes.js';
import type { KernelLists, LanePlan } from './plan.js';
import type { RunContext } from './prepare.js';
import { loadReportModules } from './report-modules.js';

/** The head of the first raw log that has one: enough for the kernel's banner. */
function headOf(logs: string[]): string {
  for (const l of logs) {
    try {
      const text = readFileSync(l, 'utf8');
      if (text.includes('Linux version')) return text.slice(0, 1 << 20);
    } catch {
      // a log that is gone has no banner
    }
  }
  return '';
}

/** A shard with nothing to run (fewer suites than shards): no boot, nothing failed. */
export function emptyShardResult(): RunResult {
  return { documents: [], diagnostics: [], counts: emptyCounts(), verdict: 'passed', lines: 0, metadata: {} };
}

/** The lanes' agent figures, summed; the agent's state is the worst lane's. */
export function sumAgentMetadata(metas: readonly Record<string, string>[]): Record<string, string> {
  const sum = (k: string): string => String(metas.reduce((n, m) => n + Number(m[k] ?? 0), 0));
  const states = metas.map((m) => m['agent'] ?? 'not started');
  return {
    agent: ['not started', 'lost', 'finished'].find((st) => states.includes(st)) ?? 'finished',
    agentLines: sum('agentLines'),
    agentConnects: sum('agentConnects'),
    agentDuplicatesIgnored: sum('agentDuplicatesIgnored'),
    ...(metas.some((m) => m['agentCuts']) ? { agentCuts: sum('agentCuts') } : {}),
    ...(metas.some((m) => m['agentRefused']) ? { agentRefused: sum('agentRefused') } : {}),
  };
}

/** The top-level suites' durations, for the next plan. */
export function freshTimings(result: RunResult): Record<string, number> {
  const fresh: Record<string, number> = {};
  for (const d of result.documents)
    for (const t of d.tests) if (t.durationMs !== undefined && t.status !== 'not-run') fresh[t.name] = t.durationMs;
  return fresh;
}

/** The lanes' results as one: a single boot's as it is, an empty shard's, or the lanes merged. */
function mergeResults(ctx: RunContext, plan: LanePlan, laneResults: LaneResult[], single: boolean): RunResult {
  const result =
    single && laneResults.length === 1
      ? laneResults[0]!.result
      : plan.shardInfo && plan.lanes.length === 0
        ? emptyShardResult()
        : mergeLanes(
            laneResults,
            (plan.suites ?? []).map((s) => s.name),
            plan.lanes.map((l) => l.suites),
            ctx.queue.all.map((m) => basename(m)),
          );
  if (ctx.useAgent && laneResults.length > 1) Object.assign(result.metadata, sumAgentMetadata(laneResults.map((l) => l.result.metadata)));
  return result;
}

export async function finishRun(
  ctx: RunContext,
  o: { plan: LanePlan; laneResults: LaneResult[]; single: boolean; booter: Booter; lists: KernelLists },
): Promise<RunOutcome> {
  const { req, warn, useAgent, modules, outputDir, arch } = ctx;
  const { plan, laneResults, booter, lists } = o;
  const rawLogs = booter.rawLogs;
  let result = mergeResults(ctx, plan, laneResults, o.single);
  // Modules no lane loaded (every agent failed, or the run was cut short) are not-run, not absent.
  const notLoaded = useAgent ? [...ctx.queue.left] : modules;
  if (notLoaded.length > 0) {
    result = foldAttempts(result, {
      steps: [],
      repeat: 1,
      modulesNotLoaded: notLoaded.map((m) => basename(m)),
      cutShort: req.signal?.aborted
        ? 'interrupted'
        : (booter.agentFailures[0] ?? (useAgent ? 'the run ended first' : 'the agent could not run in this kernel')),
    });
  }
  Object.assign(result.metadata, {
    arch,
    kernel: ctx.kernel,
    accel: booter.accel,
    qemu: ctx.qemu,
    cmdline: booter.firstCmdline,
    lanes: String(plan.lanes.length),
    kernelHash: lists.fullHash(),
    started: ctx.started,
    ...bannerMetadata(headOf(rawLogs)),
    endings: laneResults.map((l) => l.session?.ending ?? 'exited').join(','),
    ...(useAgent ? { transport: 'agent', repeat: String(ctx.repeat), modules: String(modules.length) } : { transport: 'serial' }),
  });

  if (req.build) result.build = req.build;
  writeCache(lists.timingsKey(), { ...readCache<Record<string, number>>(lists.timingsKey()), ...freshTimings(result) });
  const { shardInfo } = plan;
  if (shardInfo) result.shard = shardInfo;
  if (req.saveTimings) saveTimings(resolve(ctx.cwd, req.saveTimings), result);

  // A shard is judged on its own part: baseline tests of the other shards are not missing.
  const inScope = shardInfo ? shardScope(shardInfo.expected) : undefined;
  if (ctx.gating && ctx.gateOptions)
    for (const w of ctx.gating.applyGate(result, { ...ctx.gateOptions, arch, ...(inScope ? { inScope } : {}) }).warnings) warn(w);

  const [{ writeReports }] = await loadReportModules();
  let exitCode: number = exitCodeFor(result.verdict);
  if (req.signal?.aborted) exitCode = exitCodeForSignal(req.signal.reason);
  try {
    writeReports(result, req.reports ?? {}, [['json', join(outputDir, 'results.json')]]);
  } catch (err) {
    // Every other report was written; the run's results stand, the exit code says one is missing.
    if (!(err instanceof BridgeError)) throw err;
    return { result, exitCode: err.exitCode, outputDir, rawLogs, reportError: err };
  }
  return { result, exitCode, outputDir, rawLogs };
}
