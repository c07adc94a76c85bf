/**
 * Sharding a run over several QEMU instances ("lanes"). Pure.
 *
 * KUnit selects tests at boot with one glob (`kunit.filter_glob`, character
 * classes allowed) and attribute filters ANDed together (`kunit.filter`,
 * e.g. `module!=memcpy_kunit,module!=time_test`). So a lane is described by
 * at most one glob plus module filters, and the planner picks, among the
 * partitions it can express, the one with the smallest estimated makespan:
 *
 * - H heavy modules each get a lane of their own (`module=m`);
 * - the other suites are split into contiguous groups by first letter
 *   (`[a-f]*`), with the H modules excluded (`module!=m`).
 *
 * Suites without a `module` attribute (e.g. Rust suites whose cases leave it
 * NULL) are never selected or excluded by module.
 */
import type { ListedSuite } from './ktap/test-list.js';

export interface Lane {
  index: number;
  /** KUnit glob for this lane (combined with nothing: a user glob forbids letter splits). */
  filterGlob?: string;
  /** KUnit attribute filter for this lane (without the user's, which the caller prepends). */
  filter?: string;
  /** Suites this lane is expected to run, in boot order. */
  suites: string[];
  /** Estimated cost (ms). */
  estimatedMs: number;
  /** With the agent: the lane boots with no built-in suite and only loads test modules. */
  modulesOnly?: boolean;
}

/** What one more lane is charged in the plan (ms): its boot, and sharing the machine. */
export const LANE_COST_MS = 300;

/** Estimated cost of a suite in ms: its recorded time, else a guess from its tests. */
export type CostFn = (suite: ListedSuite) => number;

/** Guess without history: KUnit marks tests over 1 s `speed: slow`. */
export function guessCost(suite: ListedSuite): number {
  let ms = 5;
  for (const t of suite.tests) ms += t.attributes['speed'] === 'slow' || t.attributes['speed'] === 'very_slow' ? 1000 : 5;
  if (suite.attributes['speed'] === 'slow') ms += 1000;
  return ms;
}

interface Unit {
  module: string;
  suites: ListedSuite[];
  cost: number;
}

/** Split `items` (in order) into `k` contiguous groups minimising the largest sum (greedy by target). */
function contiguous<T>(items: T[], k: number, cost: (t: T) => number): T[][] {
  const total = items.reduce((a, t) => a + cost(t), 0);
  const groups: T[][] = [];
  let cur: T[] = [];
  let sum = 0;
  let left = total;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const c = cost(item);
    const remainingGroups = k - groups.length;
    const target = left / remainingGroups;
    if (cur.length > 0 && remainingGroups > 1 && sum + c / 2 > target && items.length - i >= remainingGroups - 1) {
      groups.push(cur);
      left -= sum;
      cur = [];
      sum = 0;
    }
    cur.push(item);
    sum += c;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/** A glob character class for a set of first characters. */
function charClass(chars: string[]): string {
  const esc = chars.map((c) => (c === ']' || c === '!' || c === '^' || c === '-' || c === '\\' ? `\\${c}` : c));
  return `[${esc.join('')}]*`;
}

/**
 * Plan up to `jobs` lanes over `suites` (listed in boot order).
 * `userGlob`: when the user gave a glob, lanes cannot add their own.
 */
export function planLanes(suites: ListedSuite[], jobs: number, cost: CostFn = guessCost, userGlob?: string): Lane[] {
  const all = (): Lane[] => [{ index: 0, suites: suites.map((s) => s.name), estimatedMs: suites.reduce((a, s) => a + cost(s), 0) }];
  if (jobs <= 1 || suites.length <= 1) return all();
  const byModule = new Map<string, Unit>();
  for (const s of suites) {
    const m = s.attributes['module'];
    if (!m) continue;
    const u = byModule.get(m) ?? { module: m, suites: [], cost: 0 };
    u.suites.push(s);
    u.cost += cost(s);
    byModule.set(m, u);
  }
  const heavy = [...byModule.values()].sort((a, b) => b.cost - a.cost);
  let best: Lane[] = all();
  let bestSpan = best[0]!.estimatedMs;
  for (let h = 0; h < jobs && h <= heavy.length; h++) {
    const isolated = heavy.slice(0, h);
    const excluded = new Set(isolated.map((u) => u.module));
    const rest = suites.filter((s) => !excluded.has(s.attributes['module'] ?? ''));
    // `module!=m` on a suite whose cases have no module name would make the kernel compare NULL.
    if (h > 0 && rest.some((s) => !s.attributes['module'])) break;
    const lanes: Lane[] = isolated.map((u, i) => ({
      index: i,
      filter: `module=${u.module}`,
      suites: u.suites.map((s) => s.name),
      estimatedMs: u.cost,
    }));
    const restLanes = jobs - h;
    if (rest.length > 0) {
      const exclude = isolated.map((u) => `module!=${u.module}`).join(',') || undefined;
      // Group the rest by first character; letter lanes need a glob of their own.
      const letters = [...new Set(rest.map((s) => s.name[0]!))].sort();
      const letterCost = (c: string): number => rest.filter((s) => s.name[0] === c).reduce((a, s) => a + cost(s), 0);
      const groups =
        userGlob !== undefined || restLanes <= 1 || letters.length < 2
          ? [letters]
          : contiguous(letters, Math.min(restLanes, letters.length), letterCost);
      for (const g of groups) {
        const lane: Lane = {
          index: lanes.length,
          suites: rest.filter((s) => g.includes(s.name[0]!)).map((s) => s.name),
          estimatedMs: g.reduce((a, c) => a + letterCost(c), 0),
        };
        if (groups.length > 1) lane.filterGlob = charClass(g);
        if (exclude) lane.filter = exclude;
        lanes.push(lane);
      }
    } else if (h === 0) {
      continue;
    }
    // Every lane costs a boot (and shares the machine): charge each one a little.
    const span = Math.max(...lanes.map((l) => l.estimatedMs)) + LANE_COST_MS * (lanes.length - 1);
    if (span < bestSpan) {
      best = lanes;
      bestSpan = span;
    }
  }
  return best;
}

/** One lane per suite (or per test), like kunit.py --run_isolated. */
export function isolatedLanes(suites: ListedSuite[], mode: 'suite' | 'test', cost: CostFn = guessCost): Lane[] {
  if (mode === 'suite') {
    return suites.map((s, index) => ({ index, filterGlob: s.name, suites: [s.name], estimatedMs: cost(s) }));
  }
  const lanes: Lane[] = [];
  for (const s of suites) {
    for (const t of s.tests) {
      lanes.push({ index: lanes.length, filterGlob: `${s.name}.${t.name}`, suites: [s.name], estimatedMs: cost({ ...s, tests: [t] }) });
    }
  }
  return lanes;
}
