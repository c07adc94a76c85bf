import { describe, expect, test } from 'vitest';
import { laneAgentOptions, laneKunit, laneLogName, NO_SUITE_GLOB } from '../../../runner/run/lanes.js';
import type { Lane } from '../../../runner/shard.js';

const user = { filterGlob: 'kunit*', filter: 'speed=slow', filterAction: undefined };
const req = { filterGlob: 'kunit*', filterAttr: 'speed=slow' };
const plain: Lane = { index: 0, suites: ['kunit_a'], estimatedMs: 5 };
const globbed: Lane = { index: 1, suites: ['kunit_b'], estimatedMs: 5, filterGlob: 'kunit_b', filter: 'name=t1' };
const modulesOnly: Lane = { index: 2, suites: [], estimatedMs: 0, modulesOnly: true };

describe("a lane's KUnit parameters", () => {
  test("a single boot gets the user's as they are (the same object)", () => {
    expect(laneKunit(globbed, true, req, user)).toBe(user);
  });
  test('a single --run-isolated boot still gets its own glob', () => {
    expect(laneKunit(globbed, true, { ...req, runIsolated: 'suite' }, user)).toEqual({
      filterGlob: 'kunit_b',
      filter: 'speed=slow,name=t1',
      filterAction: undefined,
    });
  });
  test("a lane without a glob keeps the user's; the filters join", () => {
    expect(laneKunit(plain, false, req, user)).toEqual({ filterGlob: 'kunit*', filter: 'speed=slow', filterAction: undefined });
    expect(laneKunit(globbed, false, {}, { filterGlob: undefined, filter: undefined, filterAction: undefined }).filter).toBe('name=t1');
    expect(laneKunit(plain, false, {}, { filterGlob: undefined, filter: undefined, filterAction: undefined }).filter).toBeUndefined();
  });
  test('a module-only lane matches no built-in suite', () => {
    expect(laneKunit(modulesOnly, false, req, user)).toEqual({ ...user, filterGlob: NO_SUITE_GLOB });
  });
});

describe("a lane's agent options", () => {
  test("a lane that boots with the user's glob resets nothing", () => {
    expect(laneAgentOptions(plain, req)).toEqual({});
    expect(laneAgentOptions({ ...globbed, filterGlob: 'kunit*' }, req)).toEqual({});
  });
  test("a lane with a glob of its own, or none to boot, gives the modules the user's glob back", () => {
    expect(laneAgentOptions(globbed, req)).toEqual({ resetGlob: 'kunit*' });
    expect(laneAgentOptions(modulesOnly, req)).toEqual({ resetGlob: 'kunit*' });
    expect(laneAgentOptions(modulesOnly, {})).toEqual({ resetGlob: '*' });
  });
});

test('the raw log names: console.log alone, numbered lanes otherwise', () => {
  expect(laneLogName(plain, true)).toBe('console.log');
  expect(laneLogName(plain, false)).toBe('console-lane-01.log');
  expect(laneLogName({ ...plain, index: 11 }, false)).toBe('console-lane-12.log');
});
