import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseTestList, type ListedSuite } from '../../runner/ktap/test-list.js';
import { guessCost, isolatedLanes, planLanes } from '../../runner/shard.js';
import { REPO } from '../helpers/corpus.js';

// Captured from the x86_64-kunit-all fixture booted with kunit.action=list_attr.
const suites = parseTestList(readFileSync(join(REPO, 'test/fixtures/x86_64-kunit-all-list_attr.log'), 'utf8'));
// Measured suite times (ms) of that kernel under TCG.
const measured: Record<string, number> = { memcpy: 4227, time_test_cases: 2103, string: 674, iov_iter: 104, usercopy: 65 };
const cost = (s: (typeof suites)[number]): number => measured[s.name] ?? 3;

describe('test list', () => {
  test('every suite and test of kunit.action=list_attr, with attributes, kernel noise ignored', () => {
    expect(suites).toHaveLength(47);
    expect(suites.reduce((a, s) => a + s.tests.length, 0)).toBe(379);
    expect(suites[1]).toEqual({
      name: 'time_test_cases',
      attributes: { module: 'time_test' },
      tests: [{ name: 'time64_to_tm_test_date_range', attributes: { speed: 'slow' } }],
    });
    expect(suites.map((s) => s.name)).not.toContain('input:');
  });
});

describe('lanes', () => {
  test('one job: one lane, no filters', () => {
    const lanes = planLanes(suites, 1, cost);
    expect(lanes).toHaveLength(1);
    expect(lanes[0]!.filterGlob).toBeUndefined();
    expect(lanes[0]!.filter).toBeUndefined();
  });

  test('two jobs on kunit-all: memcpy gets a lane of its own, everything else the other', () => {
    const lanes = planLanes(suites, 2, cost);
    expect(lanes.map((l) => [l.filterGlob, l.filter])).toEqual([
      [undefined, 'module=memcpy_kunit'],
      [undefined, 'module!=memcpy_kunit'],
    ]);
    expect(lanes[0]!.suites).toEqual(['memcpy']);
    expect(lanes[1]!.suites).toHaveLength(46);
  });

  test('lanes cover every suite exactly once, whatever the job count', () => {
    for (const jobs of [2, 3, 4, 8]) {
      const lanes = planLanes(suites, jobs, cost);
      expect(lanes.length).toBeLessThanOrEqual(jobs);
      expect(lanes.flatMap((l) => l.suites).sort()).toEqual(suites.map((s) => s.name).sort());
    }
  });

  test('letter lanes select with a character class that matches only their suites', () => {
    const even = suites.map((s) => ({ ...s }));
    const lanes = planLanes(even, 3, () => 10);
    for (const lane of lanes) {
      if (!lane.filterGlob) continue;
      const re = new RegExp(`^${lane.filterGlob.replace('*', '.*')}$`);
      expect(
        suites
          .filter((s) => re.test(s.name))
          .map((s) => s.name)
          .sort(),
      ).toEqual([...lane.suites].sort());
    }
  });

  test('suites without a module attribute are never filtered by module', () => {
    const rust: ListedSuite[] = [
      { name: 'rust_doctests_kernel', attributes: {}, tests: [{ name: 'a', attributes: { speed: 'slow' } }] },
      { name: 'example', attributes: { module: 'kunit_example_test' }, tests: [{ name: 'b', attributes: {} }] },
    ];
    for (const lane of planLanes(rust, 2)) expect(lane.filter).toBeUndefined();
  });

  test('a user glob forbids letter lanes; --run-isolated gives one lane per suite or test', () => {
    const lanes = planLanes(suites, 4, cost, 'm*');
    expect(lanes.every((l) => l.filterGlob === undefined)).toBe(true);
    expect(isolatedLanes(suites, 'suite').map((l) => l.filterGlob)).toEqual(suites.map((s) => s.name));
    expect(isolatedLanes(suites, 'test')).toHaveLength(379);
    expect(isolatedLanes(suites, 'test')[1]!.filterGlob).toBe('time_test_cases.time64_to_tm_test_date_range');
  });

  test('the guess without history: slow tests weigh a second', () => {
    expect(guessCost(suites.find((s) => s.name === 'memcpy')!)).toBeGreaterThan(4000);
    expect(guessCost(suites.find((s) => s.name === 'hash')!)).toBeLessThan(100);
  });
});
