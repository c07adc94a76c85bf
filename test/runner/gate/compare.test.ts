import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { jsonReporter } from '../../../reporters/json.js';
import { BAD_STATUSES, compareResults, filterGlobOf } from '../../../runner/gate/compare.js';
import { parseResultsJson } from '../../../runner/gate/results-file.js';
import { leafTests } from '../../../runner/gate/test-path.js';
import { parseLog } from '../../../runner/ktap/index.js';
import { corpus } from '../../helpers/corpus.js';
import { leaf, result, suite } from './results.js';

const paths = (list: { path: string }[]): string[] => list.map((t) => t.path);

describe('comparison with a baseline', () => {
  test('every bucket', () => {
    const base = result({
      's.pass_to_fail': 'pass',
      's.skip_to_crash': 'skip',
      's.xfail_to_timeout': 'xfail',
      's.fail_to_pass': 'fail',
      's.crash_to_skip': 'crashed',
      's.fail_to_fail': 'fail',
      's.error_to_timeout': 'error',
      's.same': 'pass',
      's.gone': 'pass',
      's.flaky': 'pass',
      's.was_not_run': 'not-run',
      's.todo_to_error': 'todo',
    });
    const now = result({
      's.pass_to_fail': 'fail',
      's.skip_to_crash': 'crashed',
      's.xfail_to_timeout': 'timeout',
      's.fail_to_pass': 'pass',
      's.crash_to_skip': 'skip',
      's.fail_to_fail': 'fail',
      's.error_to_timeout': 'timeout',
      's.same': 'pass',
      's.flaky': leaf('', 'fail', { flaky: true }),
      's.was_not_run': 'fail',
      's.todo_to_error': 'error',
      's.brand_new_fail': 'fail',
      's.brand_new_pass': 'pass',
    });
    const c = compareResults(base, now);
    expect(paths(c.regressions)).toEqual(['s.pass_to_fail', 's.skip_to_crash', 's.xfail_to_timeout', 's.todo_to_error']);
    expect(c.regressions[0]).toEqual({ path: 's.pass_to_fail', before: 'pass', now: 'fail' });
    expect(paths(c.fixed)).toEqual(['s.fail_to_pass', 's.crash_to_skip']);
    expect(paths(c.stillFailing)).toEqual(['s.fail_to_fail', 's.error_to_timeout']);
    expect(paths(c.newFailures)).toEqual(['s.was_not_run', 's.brand_new_fail']);
    expect(paths(c.newTests)).toEqual(['s.brand_new_pass']);
    expect(paths(c.flaky)).toEqual(['s.flaky']);
    // The run is incomplete (a crash): that is why s.gone is not there.
    expect(c.missing).toEqual([{ path: 's.gone', before: 'pass', why: 'not run: the kernel crashed in s.skip_to_crash' }]);
  });

  test('missing from a complete run: removed, or not built', () => {
    expect(compareResults(result({ 'a.x': 'pass', 'a.gone': 'fail' }), result({ 'a.x': 'pass' })).missing).toEqual([
      { path: 'a.gone', before: 'fail', why: 'not in this run (removed from the kernel, or not built in this config)' },
    ]);
  });

  test("missing: filtered out by the run's kunit.filter_glob, excluded", () => {
    const base = result({ 'rust_kunit_fixture.a': 'pass', 'example.b': 'pass', 'example.c': 'pass' });
    const now = result({ 'example.b': 'pass' }, { metadata: { cmdline: 'console=ttyS0 kunit.filter_glob=example.b panic=-1' } });
    expect(filterGlobOf(now)).toBe('example.b');
    expect(compareResults(base, now).missing).toEqual([
      { path: 'rust_kunit_fixture.a', before: 'pass', why: 'filtered out (kunit.filter_glob=example.b)', excluded: true },
      { path: 'example.c', before: 'pass', why: 'filtered out (kunit.filter_glob=example.b)', excluded: true },
    ]);
  });

  test("missing: another shard's, excluded", () => {
    const base = result({ 'a.x': 'pass', 'b.y': 'pass' });
    const c = compareResults(base, result({ 'a.x': 'pass' }), { inScope: (p) => p.startsWith('a.') });
    expect(c.missing).toEqual([{ path: 'b.y', before: 'pass', why: "not in this run's scope (another shard)", excluded: true }]);
  });

  test("missing: after a crash, not run, and the unnamed crashed test is the baseline's of that number", () => {
    const base = result({ 'a.first': 'pass', 'a.second': 'pass', 'b.later': 'pass' });
    const now = result({
      'a.first': 'pass',
      'a.#2': 'crashed',
      'b.later': leaf('', 'not-run', { reason: 'not run: the run ended before this test' }),
    });
    const c = compareResults(base, now);
    expect(c.regressions).toEqual([{ path: 'a.second', before: 'pass', now: 'crashed' }]);
    expect(c.missing).toEqual([{ path: 'b.later', before: 'pass', now: 'not-run', why: 'not run: the run ended before this test' }]);
    const gone = compareResults(result({ 'a.first': 'pass', 'c.x': 'pass' }), result({ 'a.first': 'crashed' }));
    expect(gone.missing[0]!.why).toBe('not run: the kernel crashed in a.first');
  });

  test('missing: a module not loaded', () => {
    const mod = (tests: ReturnType<typeof suite>[]) => ({
      index: 1,
      tests,
      log: [],
      complete: true,
      startLine: 1,
      endLine: 1,
      attributes: {},
      origin: { kind: 'module' as const, module: 'list-test.ko' },
    });
    const base = result({ 'a.x': 'pass' }, { docs: [mod([suite('list-kunit-test', [leaf('list_test_list_init', 'pass')])])] });
    const now = result({ 'a.x': 'pass' }, { docs: [mod([leaf('list-test.ko', 'not-run', { reason: 'insmod failed: status 1' })])] });
    expect(compareResults(base, now).missing).toEqual([
      { path: 'list-kunit-test.list_test_list_init', before: 'pass', why: 'module list-test.ko not loaded: insmod failed: status 1' },
    ]);
  });
});

describe('a run compared with its own results.json, over the whole corpus', () => {
  test.each(corpus())('$name: nothing changed', ({ path }) => {
    const r = parseLog(readFileSync(path));
    const back = parseResultsJson(jsonReporter.render(r), 'results.json');
    expect(back.counts).toEqual(r.counts);
    const c = compareResults(back, r);
    expect([c.regressions, c.newFailures, c.fixed, c.newTests, c.missing, c.flaky]).toEqual([[], [], [], [], [], []]);
    const failing = leafTests(r)
      .filter((t) => BAD_STATUSES.has(t.node.status))
      .map((t) => t.path);
    expect(c.stillFailing.map((t) => t.path)).toEqual(failing);
  });
});
