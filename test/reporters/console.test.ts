import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ConsoleView, shouldColor, summarize } from '../../reporters/console.js';
import { KtapStream, emptyCounts } from '../../runner/ktap/index.js';
import { REPO, kernelFixture } from '../helpers/corpus.js';

function render(file: string, color = false): string {
  let out = '';
  const view = new ConsoleView({
    write: (t) => {
      out += t;
    },
    color,
  });
  const stream = new KtapStream({ onEvent: (e) => view.onEvent(e) });
  stream.write(readFileSync(file));
  view.finish(stream.finish());
  return out;
}

test('the summary lists suites and tests like kunit.py, failures with their log', () => {
  const out = render(kernelFixture('x86_64-rust-kunit', 'boot.log'));
  expect(out).toContain('============= rust_kunit_fixture (4 subtests) ==============');
  expect(out).toContain(
    '[FAILED] rust_fixture_fail\n    rust_fixture_fail: ASSERTION FAILED at samples/rust/rust_kunit_fixture.rs:68\n    Expected answer == 43 to be true, but is false\n',
  );
  expect(out).toContain('[SKIPPED] rust_fixture_skip  # skipped on purpose by the Rust fixture suite');
  expect(out).toContain('[PASSED] kunit_test_fault_null_dereference');
  expect(out).toMatch(/Testing complete\. Ran 192 tests: passed: 186, failed: 1, skipped: 5\n$/);
  expect(out).not.toContain('\x1b[');
});

test('a crash shows the crashed test, its trace, and what never ran', () => {
  const out = render(kernelFixture('x86_64-rust-kunit-v2', 'boot-oops-panic-filtered.log'));
  expect(out).toContain('[CRASHED] oops_test');
  expect(out).toContain('kernel crash: BUG: kernel NULL pointer dereference');
  expect(out).toContain('Kernel panic - not syncing: Fatal exception');
  expect(out).toContain('[NOT RUN] #3');
  expect(out).toContain('Not run: 1 test never started');
});

test('colour only when asked', () => {
  expect(render(kernelFixture('x86_64-rust-kunit', 'boot.log'), true)).toContain('\x1b[31m[FAILED]\x1b[0m');
  expect(shouldColor({ isTTY: true }, {})).toBe(true);
  expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
  expect(shouldColor({ isTTY: false }, {})).toBe(false);
  expect(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
});

test('summarize names every non-zero count', () => {
  expect(summarize({ ...emptyCounts(), total: 3, passed: 1, crashed: 1, notRun: 1 })).toBe(
    'Ran 3 tests: passed: 1, crashed: 1, not run: 1',
  );
});

test('a suite run again in a later document (debugfs re-run, run --repeat) gets its header again; a failure is listed once', () => {
  const out = render(join(REPO, 'test/fixtures/agent/modules-repeat3-console.log'));
  // Three attempts: the boot, then two debugfs re-runs.
  expect(out.match(/=+ kunit_bridge_fixture \(3 subtests\) =+/g)).toHaveLength(3);
  expect(out.match(/=+ rust_kunit_fixture_mod \(3 subtests\) =+/g)).toHaveLength(3);
  expect(out).toContain('Failures: rust_kunit_fixture.rust_fixture_fail, rust_kunit_fixture_mod.rust_mod_fail\n');
});

test('TODO is never listed under Failures, and exits 0; a run that did not pass says its verdict', () => {
  const view = (log: string): string => {
    let out = '';
    const v = new ConsoleView({
      write: (t) => {
        out += t;
      },
    });
    const stream = new KtapStream({ onEvent: (e) => v.onEvent(e) });
    stream.write(log);
    const result = stream.finish();
    v.finish(result);
    return `${result.verdict}\n${out}`;
  };
  const todo = view('KTAP version 1\n1..2\nok 1 a\nnot ok 2 b # TODO not yet\n');
  expect(todo).toMatch(/^passed\n/);
  expect(todo).toContain('[TODO] b  # not yet');
  expect(todo).not.toContain('Failures:');
  expect(todo).not.toContain('Verdict:');
  const none = view('KTAP version 1\n1..0\n');
  expect(none).toMatch(/^no-tests\n/);
  expect(none).toContain('Verdict: no-tests: no tests ran\nTesting complete. Ran 0 tests\n');
});
