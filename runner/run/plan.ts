/**
 * What the run's lanes boot: the kernel's test list (asked of the kernel in
 * a listing boot, cached by the image's hash) and the plan that spreads the
 * suites and modules over the lanes (a shard's part, `-j`, `--run-isolated`,
 * module-only lanes).
 */
import { basename } from 'node:path';
import { fileHash, readCache, writeCache } from '../cache.js';
import { parseTestList, type ListedSuite } from '../ktap/test-list.js';
import type { RunResult } from '../ktap/model.js';
import type { KunitParams } from '../qemu/argv.js';
import type { RunRequest } from '../run-request.js';
import { guessCost, isolatedLanes, planLanes, type Lane } from '../shard.js';
import { planShardLanes } from '../shard-run.js';
import type { Booter } from './boot.js';
import type { RunContext } from './prepare.js';

/** The user's own KUnit parameters. */
export function userKunit(req: RunRequest): KunitParams {
  return { filterGlob: req.filterGlob, filter: req.filterAttr, filterAction: req.filterAction };
}

/** The image's hash (taken once, when first needed), the cache's keys made of it, and the kernel's test list. */
export class KernelLists {
  private hash: string | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly booter: Booter,
  ) {}

  /** Hashing the image is only needed for the cache: not before a single-lane boot starts. */
  fullHash(): string {
    this.hash ??= fileHash(this.ctx.kernel);
    return this.hash;
  }

  kernelKey(): string {
    return this.fullHash().slice(0, 16);
  }

  timingsKey(): string {
    return `timings/${this.kernelKey()}.json`;
  }

  private listKey(glob: string | undefined): string {
    return `lists/${this.kernelKey()}-${Buffer.from(`${glob ?? ''}\u0000${this.ctx.req.filterAttr ?? ''}`).toString('base64url')}.json`;
  }

  /** The suites the kernel runs for this glob: from the cache, or from a listing boot (`--list` always boots). */
  async getList(glob = this.ctx.req.filterGlob): Promise<ListedSuite[]> {
    const { req } = this.ctx;
    const cached = req.list ? undefined : readCache<ListedSuite[]>(this.listKey(glob));
    if (cached) return cached;
    const logName = glob === req.filterGlob ? 'console-list.log' : 'console-list-all.log';
    const s = await this.booter.boot(logName, { ...userKunit(req), filterGlob: glob, filterAction: undefined, action: 'list_attr' }, -1);
    const listed = parseTestList(s.console?.toString('utf8') ?? '');
    if (s.ending === 'exited' && listed.length > 0) writeCache(this.listKey(glob), listed);
    return listed;
  }
}

export interface LanePlan {
  lanes: Lane[];
  /** The listed suites, when the plan needed the list. */
  suites: ListedSuite[] | undefined;
  shardInfo: RunResult['shard'];
}

/** Enough history (ms) for `-j` to split the built-in suites on its own. */
const HEAVY_MS = 3000;

/**
 * Whether an unsharded run splits its suites over lanes. With test modules, -j first spreads the modules
 * (each lane boots, then takes modules from a shared queue); the built-in suites are split only when their
 * history says they are heavy.
 */
export function splitsSuites(o: {
  runIsolated: boolean;
  jobs: number;
  jobsExplicit: boolean;
  modulesToShare: boolean;
  knownMs: number;
}): boolean {
  return o.runIsolated || (o.jobs > 1 && ((o.jobsExplicit && !o.modulesToShare) || o.knownMs > HEAVY_MS));
}

/** The module-only lanes `-j N` adds: up to N lanes in all, and no more than one per module beyond the first. */
export function moduleOnlyLanes(lanes: readonly Lane[], jobs: number, modules: number): Lane[] {
  const extra = Math.min(jobs - lanes.length, modules - 1);
  const added: Lane[] = [];
  for (let i = 0; i < extra; i++) added.push({ index: lanes.length + i, suites: [], estimatedMs: 0, modulesOnly: true });
  return added;
}

export async function planRun(ctx: RunContext, lists: KernelLists, jobs: number): Promise<LanePlan> {
  const { req, warn, modules, queue } = ctx;
  // Without -j, a single boot needs no history: read it only when sharding is possible.
  const timings = jobs > 1 || req.runIsolated || req.shard ? (readCache<Record<string, number>>(lists.timingsKey()) ?? {}) : {};
  let lanes: Lane[] = [{ index: 0, suites: [], estimatedMs: 0 }];
  let suites: ListedSuite[] | undefined;
  const knownMs = Object.values(timings).reduce((a, b) => a + b, 0);
  const modulesToShare = queue.all.length > 0;
  const cost = (s: ListedSuite): number => timings[s.name] ?? guessCost(s);
  let shardInfo: RunResult['shard'];
  if (req.shard) {
    suites = await lists.getList();
    // The shard's globs must select its suites among everything the kernel would run without the user's glob.
    const universe = req.filterGlob !== undefined && !req.signal?.aborted ? await lists.getList(undefined) : suites;
    const planned = planShardLanes({
      suites,
      universe,
      modules: ctx.allModules.map((m) => basename(m)),
      spec: req.shard,
      timings: ctx.shardTimings,
      jobs,
      splitLanes: req.jobsExplicit === true || knownMs > HEAVY_MS,
      laneCost: cost,
      userGlob: req.filterGlob,
    });
    lanes = planned.lanes;
    shardInfo = { ...planned.info, kernelHash: lists.fullHash() };
    if (planned.info.expected.length === 0 && modules.length === 0) {
      warn(
        `shard ${req.shard.index}/${req.shard.total} has nothing to run: the kernel lists ${suites.length} suite(s) for ${req.shard.total} shards`,
      );
    }
    if (lanes.length === 0 && modules.length > 0) lanes = [{ index: 0, suites: [], estimatedMs: 0, modulesOnly: true }];
  } else if (
    splitsSuites({ runIsolated: Boolean(req.runIsolated), jobs, jobsExplicit: Boolean(req.jobsExplicit), modulesToShare, knownMs })
  ) {
    suites = await lists.getList();
    if (suites.length === 0 && !req.signal?.aborted) warn('the kernel listed no tests for these filters: running it once as is');
    lanes =
      suites.length === 0
        ? lanes
        : req.runIsolated
          ? isolatedLanes(suites, req.runIsolated, cost)
          : planLanes(suites, jobs, cost, req.filterGlob);
  }
  if (modulesToShare && req.jobsExplicit) lanes.push(...moduleOnlyLanes(lanes, jobs, queue.all.length));
  return { lanes, suites, shardInfo };
}
