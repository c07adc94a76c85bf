import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseTestList, type ListedSuite } from '../../runner/ktap/test-list.js';
import { guessCost } from '../../runner/shard.js';
import { contiguousParts, coverGlobs, parseShardSpec, planShards, shardSuites } from '../../runner/shard-plan.js';
import { planShardLanes } from '../../runner/shard-run.js';
import { REPO } from '../helpers/corpus.js';
import { mulberry32, type Prng } from '../helpers/prng.js';

const listed = parseTestList(readFileSync(join(REPO, 'test/fixtures/x86_64-kunit-all-list_attr.log'), 'utf8'));

/** The kernel's glob (lib/glob.c) for suite names: `*`, `?`, `[...]` with `!` negation and ranges. */
function globMatch(glob: string, name: string): boolean {
  const re = glob.replace(/\[([^\]]+)\]|\*|\?|[^[*?]/g, (m, cls: string | undefined) => {
    if (cls !== undefined) return `[${cls.startsWith('!') ? `^${cls.slice(1)}` : cls.replace(/[\\^]/g, '\\$&')}]`;
    if (m === '*') return '.*';
    if (m === '?') return '.';
    return m.replace(/[.+^${}()|\\/-]/g, '\\$&');
  });
  return new RegExp(`^${re}$`).test(name);
}

const CHARS = 'abcdefghijklmnopqrstuvwxyz_0123456789-';
function randomName(rng: Prng): string {
  const len = 1 + rng.int(12);
  let s = '';
  for (let i = 0; i < len; i++) s += CHARS[rng.int(rng.int(4) === 0 ? CHARS.length : 6)];
  return s;
}
function randomSuites(rng: Prng): ListedSuite[] {
  const n = 1 + rng.int(60);
  const names = new Set<string>();
  while (names.size < n) names.add(randomName(rng));
  return [...names].map((name) => ({
    name,
    attributes: {},
    tests: Array.from({ length: 1 + rng.int(8) }, (_, i) => ({
      name: `t${i}`,
      attributes: (rng.int(5) === 0 ? { speed: 'slow' } : {}) as Record<string, string>,
    })),
  }));
}

describe('--shard K/N', () => {
  test('parses K/N', () => {
    expect(parseShardSpec('2/3')).toEqual({ index: 2, total: 3 });
    expect(parseShardSpec('0/3')).toBeUndefined();
    expect(parseShardSpec('4/3')).toBeUndefined();
    expect(parseShardSpec('1-3')).toBeUndefined();
  });

  for (let seed = 1; seed <= 60; seed++) {
    test(`seed ${seed}: parts are the whole, disjoint, non-empty, balanced, and the same from any input order`, () => {
      const rng = mulberry32(seed);
      const suites = randomSuites(rng);
      const times: Record<string, number> = Object.fromEntries(suites.map((s) => [s.name, rng.int(3) === 0 ? rng.int(5000) : rng.int(50)]));
      const cost = (s: ListedSuite): number => times[s.name] ?? guessCost(s);
      const n = 1 + rng.int(8);
      const plan = planShards(suites, [], n, cost);
      const parts = Array.from({ length: n }, (_, k) => shardSuites(plan, k + 1));
      // Together exactly the whole, each suite once.
      expect(parts.flat().sort()).toEqual(suites.map((s) => s.name).sort());
      // Non-empty while there are at least N suites.
      if (suites.length >= n) for (const p of parts) expect(p.length).toBeGreaterThan(0);
      // Balanced: no part above the ideal share plus the heaviest suite.
      const total = suites.reduce((a, s) => a + cost(s), 0);
      const heaviest = Math.max(...suites.map(cost));
      for (const ms of plan.estimatedMs) expect(ms).toBeLessThanOrEqual(total / n + heaviest + 1);
      // Deterministic: a shuffled listing (another machine's order of discovery) gives the same parts.
      const again = planShards(mulberry32(seed + 1000).shuffle([...suites]), [], n, cost);
      for (let k = 1; k <= n; k++) expect(shardSuites(again, k).sort()).toEqual([...parts[k - 1]!].sort());
      // Each shard's globs select exactly its suites among all of them.
      for (let k = 1; k <= n; k++) {
        const mine = new Set(parts[k - 1]);
        const cover = coverGlobs(
          suites.map((s) => s.name),
          mine,
        );
        if (!cover) {
          expect(mine.size).toBe(suites.length);
          continue;
        }
        for (const s of suites) {
          const hits = cover.filter((c) => globMatch(c.glob, s.name)).length;
          expect(hits, `${s.name} in shard ${k}: ${cover.map((c) => c.glob).join(' ')}`).toBe(mine.has(s.name) ? 1 : 0);
        }
        for (const c of cover) expect(c.suites.every((x) => globMatch(c.glob, x))).toBe(true);
      }
    });
  }

  test('contiguousParts: the optimal largest part, exactly k non-empty parts', () => {
    expect(contiguousParts([5, 1, 1, 1, 1, 1], 2)).toEqual([0, 1, 1, 1, 1, 1]);
    expect(contiguousParts([1, 1, 1], 3)).toEqual([0, 1, 2]);
    expect(contiguousParts([0, 0, 0, 0], 3)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(contiguousParts([1, 2], 5)).toEqual([0, 1]);
  });

  test('x86_64-kunit-all in 3: memcpy (over half the time) alone, each shard a couple of globs', () => {
    const measured: Record<string, number> = { memcpy: 4227, time_test_cases: 2103, string: 674, iov_iter: 104, usercopy: 65 };
    const cost = (s: ListedSuite): number => measured[s.name] ?? 3;
    const plan = planShards(listed, [], 3, cost);
    const parts = [1, 2, 3].map((k) => shardSuites(plan, k));
    expect(parts.find((p) => p.includes('memcpy'))).toEqual(['memcpy']);
    for (const [k, p] of parts.entries()) {
      const cover = coverGlobs(
        listed.map((s) => s.name),
        new Set(p),
      )!;
      expect(cover.length, `shard ${k + 1}: ${cover.map((c) => c.glob).join(' ')}`).toBeLessThanOrEqual(6);
    }
  });

  test('modules are split too, by file name; every shard records the whole plan', () => {
    const mods = ['c.ko', 'a.ko', 'b.ko', 'd.ko'];
    const lanes = [1, 2].map((k) =>
      planShardLanes({
        suites: listed,
        universe: listed,
        modules: mods,
        spec: { index: k, total: 2 },
        jobs: 1,
        splitLanes: false,
        laneCost: guessCost,
      }),
    );
    expect(lanes[0]!.info.modules).toEqual([
      ['a.ko', 'b.ko'],
      ['c.ko', 'd.ko'],
    ]);
    expect(lanes[1]!.info).toMatchObject({ index: 2, total: 2, suites: lanes[0]!.info.suites, parts: lanes[0]!.info.parts });
    expect([...lanes[0]!.info.expected, ...lanes[1]!.info.expected].sort()).toEqual(listed.map((s) => s.name).sort());
  });

  test('with --filter suite.test: lane globs keep the test part, select among every suite', () => {
    const universe = listed;
    const suites = listed.filter((s) => s.name.startsWith('s'));
    const r = planShardLanes({
      suites,
      universe,
      modules: [],
      spec: { index: 1, total: 2 },
      jobs: 1,
      splitLanes: false,
      laneCost: guessCost,
      userGlob: 's*.test_*',
    });
    for (const l of r.lanes) expect(l.filterGlob).toMatch(/\.test_\*$/);
    for (const s of universe) {
      const hit = r.lanes.some((l) => globMatch(l.filterGlob!.split('.')[0]!, s.name));
      expect(hit).toBe(r.info.expected.includes(s.name));
    }
  });

  test("-j inside a shard: a glob's suites split further by module, keeping the glob", () => {
    const r = planShardLanes({
      suites: listed,
      universe: listed,
      modules: [],
      spec: { index: 1, total: 1 },
      jobs: 2,
      splitLanes: true,
      laneCost: (s) => (s.name === 'memcpy' ? 4000 : 10),
    });
    expect(r.lanes.length).toBe(2);
    expect(r.lanes.some((l) => l.filter === 'module=memcpy_kunit')).toBe(true);
  });
});
