/**
 * Splitting one run across CI machines (`run --shard K/N`). Pure.
 *
 * The split must be the same on every machine: it depends only on the
 * kernel's test list, the timings file (or the built-in guess) and N — never
 * on a machine's own cache. Suites are cut into N contiguous ranges of the
 * name-sorted list (code-unit order, not locale order), the cut points
 * chosen to minimise the heaviest part; every part is non-empty when there
 * are at least N suites. A range is then selected on the kernel command line
 * with a few globs ({@link coverGlobs}): one boot per glob.
 *
 * Test modules (`--modules`) are split the same way, by file name.
 */
import type { ListedSuite } from './ktap/test-list.js';

/** `--shard K/N`: K is 1-based. */
export interface ShardSpec {
  index: number;
  total: number;
}

/** Parse `K/N` (1 ≤ K ≤ N); undefined when it is not that. */
export function parseShardSpec(text: string): ShardSpec | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const index = Number(m[1]);
  const total = Number(m[2]);
  if (index < 1 || total < 1 || index > total) return undefined;
  return { index, total };
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Cut `costs` (in order) into exactly `parts` contiguous non-empty groups (fewer only when there are
 * fewer items) minimising the largest sum. Returns the group of each item, 0-based.
 */
export function contiguousParts(costs: readonly number[], parts: number): number[] {
  const n = costs.length;
  if (n === 0) return [];
  const k = Math.max(1, Math.min(parts, n));
  const c = costs.map((x) => Math.max(0, Math.round(x)));
  const greedy = (cap: number): number[] | undefined => {
    const out: number[] = [];
    let group = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (sum + c[i]! > cap && sum > 0) {
        group++;
        sum = 0;
      }
      if (c[i]! > cap || group >= k) return undefined;
      out.push(group);
      sum += c[i]!;
    }
    return out;
  };
  let lo = Math.max(...c);
  let hi = c.reduce((a, b) => a + b, 0);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (greedy(mid)) hi = mid;
    else lo = mid + 1;
  }
  const groups = greedy(lo)!;
  // Fewer groups than asked: split the group with the most items (its sum only shrinks) until there are k.
  for (let used = groups[n - 1]! + 1; used < k; used++) {
    const sizes = new Array<number>(used).fill(0);
    for (const g of groups) sizes[g]!++;
    const widest = sizes.indexOf(Math.max(...sizes));
    const start = groups.indexOf(widest);
    const size = sizes[widest]!;
    // Cut it where the two halves' sums are closest.
    let total = 0;
    for (let i = start; i < start + size; i++) total += c[i]!;
    let best = start + 1;
    let bestDiff = Infinity;
    let left = 0;
    for (let i = start; i < start + size - 1; i++) {
      left += c[i]!;
      const diff = Math.abs(total - 2 * left);
      if (diff < bestDiff) {
        bestDiff = diff;
        best = i + 1;
      }
    }
    for (let i = best; i < n; i++) groups[i]!++;
  }
  return groups;
}

/** A glob and the suites it selects. */
export interface CoverPart {
  glob: string;
  suites: string[];
}

/**
 * Globs (KUnit `filter_glob` suite parts: `*`, `[…]`) that together match exactly the `members` among
 * `all` suite names: a prefix trie, a whole subtree becoming `prefix*` and sibling subtrees one class
 * `prefix[abc]*`. Undefined when every name is a member (no glob needed).
 */
export function coverGlobs(all: readonly string[], members: ReadonlySet<string>): CoverPart[] | undefined {
  const names = [...new Set(all)].sort(byCodeUnit);
  if (names.every((n) => members.has(n))) return undefined;
  const out: CoverPart[] = [];
  const walk = (prefix: string, under: string[]): void => {
    const inside = under.filter((n) => members.has(n)).length;
    if (inside === 0) return;
    if (inside === under.length) {
      out.push({ glob: `${prefix}*`, suites: under });
      return;
    }
    if (under.includes(prefix) && members.has(prefix)) out.push({ glob: prefix, suites: [prefix] });
    const children = new Map<string, string[]>();
    for (const n of under) {
      if (n.length <= prefix.length) continue;
      const ch = n[prefix.length]!;
      const list = children.get(ch) ?? [];
      list.push(n);
      children.set(ch, list);
    }
    const full: string[] = [];
    for (const [ch, list] of children) {
      if (list.every((n) => members.has(n))) full.push(ch);
    }
    // The kernel's glob has no escapes: `]`, `!` and `-` get a glob of their own rather than a place in a class.
    const plain = full.filter((c) => !CLASS_SPECIAL.includes(c));
    for (const c of full.filter((x) => CLASS_SPECIAL.includes(x))) out.push({ glob: `${prefix}${globChar(c)}*`, suites: children.get(c)! });
    if (plain.length === 1) out.push({ glob: `${prefix}${globChar(plain[0]!)}*`, suites: children.get(plain[0]!)! });
    else if (plain.length > 1) out.push({ glob: `${prefix}[${plain.join('')}]*`, suites: plain.flatMap((c) => children.get(c)!) });
    for (const [ch, list] of children) if (!full.includes(ch)) walk(prefix + ch, list);
  };
  walk('', names);
  return out;
}

/** A character outside a class: glob metacharacters go in a class of their own. */
function globChar(c: string): string {
  return c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
}

const CLASS_SPECIAL = [']', '!', '-'];

/** `--timings FILE` / `--save-timings FILE`: suite and module times (ms) of an earlier run. */
export interface TimingsFile {
  kunitBridgeTimings: 1;
  suites: Record<string, number>;
  modules: Record<string, number>;
}

/** The shard plan every machine computes alike, as recorded in its results.json. */
export interface ShardPlan {
  /** Every suite of the run, in the kernel's (boot) order. */
  suites: string[];
  /** The shard (1-based) of each suite in `suites`. */
  parts: number[];
  /** Module files (base names) of each shard, index 0 = shard 1. */
  modules: string[][];
  /** Estimated cost of each shard (ms). */
  estimatedMs: number[];
}

/** Estimated cost of a module file without a recorded time (ms). */
export const MODULE_GUESS_MS = 1000;

/**
 * Plan N shards over the kernel's suites (in boot order) and the module files (base names).
 * `cost` must not depend on the machine (the timings file, or the guess).
 */
export function planShards(
  suites: readonly ListedSuite[],
  modules: readonly string[],
  total: number,
  cost: (s: ListedSuite) => number,
  moduleCost: (m: string) => number = () => MODULE_GUESS_MS,
): ShardPlan {
  const sorted = [...suites].sort((a, b) => byCodeUnit(a.name, b.name));
  const groups = contiguousParts(sorted.map(cost), total);
  const partOf = new Map(sorted.map((s, i) => [s.name, groups[i]! + 1]));
  const estimatedMs = new Array<number>(total).fill(0);
  sorted.forEach((s, i) => {
    estimatedMs[groups[i]!]! += cost(s);
  });
  const mods = [...new Set(modules)].sort(byCodeUnit);
  const modGroups = contiguousParts(mods.map(moduleCost), total);
  const modParts = Array.from({ length: total }, (): string[] => []);
  mods.forEach((m, i) => {
    modParts[modGroups[i]!]!.push(m);
    estimatedMs[modGroups[i]!]! += moduleCost(m);
  });
  return { suites: suites.map((s) => s.name), parts: suites.map((s) => partOf.get(s.name)!), modules: modParts, estimatedMs };
}

/** The suites of shard `index` (1-based), in boot order. */
export function shardSuites(plan: ShardPlan, index: number): string[] {
  return plan.suites.filter((_, i) => plan.parts[i] === index);
}
