/**
 * From a shard plan to the lanes one machine boots (`run --shard K/N`). Pure.
 *
 * The split itself (runner/shard-plan.ts) uses only what every machine has
 * alike: the kernel's list, the `--timings` file or the guess, N. The lanes
 * inside the machine (one per glob of its range, split further by module
 * when `--jobs` allows) may use this machine's own cache.
 */
import type { ListedSuite } from './ktap/test-list.js';
import type { ShardInfo } from './ktap/model.js';
import { guessCost, planLanes, type Lane } from './shard.js';
import { coverGlobs, MODULE_GUESS_MS, planShards, type ShardSpec, type TimingsFile } from './shard-plan.js';

export interface ShardLaneRequest {
  /** The suites to run (listed with the user's filters), in boot order. */
  suites: ListedSuite[];
  /** Every suite the kernel would run without the user's glob (the same as `suites` without one). */
  universe: ListedSuite[];
  /** Module files (base names) given with --modules. */
  modules: string[];
  spec: ShardSpec;
  timings?: TimingsFile;
  /** QEMU instances this machine may run at once. */
  jobs: number;
  /** Split a glob's suites further by module (an explicit -j, or history that says it pays). */
  splitLanes: boolean;
  /** This machine's cost estimate for lanes. */
  laneCost: (s: ListedSuite) => number;
  /** The user's `--filter`: its test part (after the first `.`) is kept on every lane glob. */
  userGlob?: string;
}

const shardCost =
  (timings: TimingsFile | undefined) =>
  (s: ListedSuite): number =>
    timings?.suites[s.name] ?? guessCost(s);
const moduleCost =
  (timings: TimingsFile | undefined) =>
  (m: string): number =>
    timings?.modules[m] ?? MODULE_GUESS_MS;

/** The module files (base names) of shard K: known before the kernel's list is. */
export function shardModulesOf(modules: string[], spec: ShardSpec, timings?: TimingsFile): string[] {
  return planShards([], modules, spec.total, shardCost(timings), moduleCost(timings)).modules[spec.index - 1]!;
}

/** For the gate: is a test path (`suite.test…`) in a shard that was meant to run `expected`? */
export function shardScope(expected: string[]): (path: string) => boolean {
  const mine = new Set(expected);
  return (path) => mine.has(path) || [...mine].some((s) => path.startsWith(`${s}.`));
}

/** The lanes of shard K and what its results.json records (without the kernel hash). */
export function planShardLanes(req: ShardLaneRequest): { lanes: Lane[]; info: Omit<ShardInfo, 'kernelHash'> } {
  const plan = planShards(req.suites, req.modules, req.spec.total, shardCost(req.timings), moduleCost(req.timings));
  const expected = plan.suites.filter((_, i) => plan.parts[i] === req.spec.index);
  const info = { index: req.spec.index, total: req.spec.total, expected, suites: plan.suites, parts: plan.parts, modules: plan.modules };
  if (expected.length === 0) return { lanes: [], info };
  const dot = req.userGlob?.indexOf('.') ?? -1;
  const testPart = dot >= 0 ? req.userGlob!.slice(dot) : '';
  const mine = new Set(expected);
  const cover = coverGlobs(
    req.universe.map((s) => s.name),
    mine,
  ) ?? [{ glob: req.userGlob !== undefined ? req.userGlob.slice(0, dot >= 0 ? dot : undefined) : '', suites: expected }];
  const byName = new Map(req.suites.map((s) => [s.name, s]));
  const lanes: Lane[] = [];
  const share = Math.max(1, Math.floor(req.jobs / cover.length));
  for (const part of cover) {
    const listed = part.suites.filter((n) => mine.has(n)).map((n) => byName.get(n)!);
    const glob = part.glob === '' ? undefined : `${part.glob}${testPart}`;
    const sub =
      req.splitLanes && share > 1
        ? planLanes(listed, share, req.laneCost, glob ?? '*')
        : [{ index: 0, suites: listed.map((s) => s.name), estimatedMs: listed.reduce((a, s) => a + req.laneCost(s), 0) }];
    for (const l of sub) {
      const lane: Lane = { ...l, index: lanes.length };
      if (glob !== undefined) lane.filterGlob = glob;
      else delete lane.filterGlob;
      lanes.push(lane);
    }
  }
  return { lanes, info };
}
