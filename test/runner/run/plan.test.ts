import { describe, expect, test } from 'vitest';
import { moduleOnlyLanes, splitsSuites, userKunit } from '../../../runner/run/plan.js';
import type { Lane } from '../../../runner/shard.js';

const base = { runIsolated: false, jobs: 1, jobsExplicit: false, modulesToShare: false, knownMs: 0 };

describe('whether an unsharded run splits its suites', () => {
  test('one job never splits, however heavy the history', () => {
    expect(splitsSuites({ ...base, knownMs: 1e6 })).toBe(false);
    expect(splitsSuites({ ...base, jobsExplicit: true })).toBe(false);
  });
  test('--run-isolated always splits', () => {
    expect(splitsSuites({ ...base, runIsolated: true })).toBe(true);
  });
  test('-j given splits without history, unless there are modules to spread first', () => {
    expect(splitsSuites({ ...base, jobs: 4, jobsExplicit: true })).toBe(true);
    expect(splitsSuites({ ...base, jobs: 4, jobsExplicit: true, modulesToShare: true })).toBe(false);
  });
  test('a default -j splits only when the history says the suites are heavy (over 3 s)', () => {
    expect(splitsSuites({ ...base, jobs: 2 })).toBe(false);
    expect(splitsSuites({ ...base, jobs: 2, knownMs: 3000 })).toBe(false);
    expect(splitsSuites({ ...base, jobs: 2, knownMs: 3001 })).toBe(true);
    expect(splitsSuites({ ...base, jobs: 2, knownMs: 3001, modulesToShare: true })).toBe(true);
  });
});

describe('module-only lanes', () => {
  const one: Lane[] = [{ index: 0, suites: [], estimatedMs: 0 }];
  test('up to -j lanes in all, numbered after the planned ones', () => {
    expect(moduleOnlyLanes(one, 3, 5)).toEqual([
      { index: 1, suites: [], estimatedMs: 0, modulesOnly: true },
      { index: 2, suites: [], estimatedMs: 0, modulesOnly: true },
    ]);
  });
  test('no more lanes than modules beyond the first', () => {
    expect(moduleOnlyLanes(one, 8, 3).map((l) => l.index)).toEqual([1, 2]);
    expect(moduleOnlyLanes(one, 8, 1)).toEqual([]);
  });
  test('none when the planned lanes already fill -j', () => {
    const four: Lane[] = [0, 1, 2, 3].map((index) => ({ index, suites: [], estimatedMs: 0 }));
    expect(moduleOnlyLanes(four, 2, 9)).toEqual([]);
  });
});

test("the user's KUnit parameters", () => {
  expect(userKunit({ filterGlob: 'a*', filterAttr: 'speed=slow', filterAction: 'skip', jobs: 3 })).toEqual({
    filterGlob: 'a*',
    filter: 'speed=slow',
    filterAction: 'skip',
  });
});
