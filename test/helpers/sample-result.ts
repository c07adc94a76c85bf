/**
 * Hand-built RunResult fixtures for reporter tests: every status, a
 * parameterised test, a crash with a trace, a Rust doctest with a location,
 * and names/logs full of characters reporters must clean or escape.
 */
import { countLeaves, emptyCounts } from '../../runner/ktap/model.js';
import type { Counts, KtapDocument, RunResult, TestNode } from '../../runner/ktap/model.js';

/** A test node with the boring fields filled in. */
export function node(name: string, status: TestNode['status'], extra: Partial<TestNode> = {}): TestNode {
  return { name, status, log: [], children: [], attributes: {}, line: 1, ...extra };
}

/** Children numbered 1..N, as the parser would. */
function numbered(children: TestNode[]): TestNode[] {
  return children.map((c, i) => ({ ...c, number: i + 1 }));
}

function doc(index: number, tests: TestNode[], log: string[] = []): KtapDocument {
  return {
    index,
    format: 'KTAP',
    version: 1,
    plan: tests.length,
    tests: numbered(tests),
    log,
    complete: true,
    startLine: 1,
    endLine: 100,
    attributes: {},
  };
}

/** A name with everything hostile: `#`, `\`, XML specials, ANSI colour, NUL, BEL, bare ESC. */
export const WEIRD_NAME = 'weird # name \\ back <&>"\' \x1b[31mred\x1b[0m nul\x00bel\x07esc\x1b';
/** The same name as a reader should see it once control characters and ANSI are gone. */
export const WEIRD_NAME_CLEAN = 'weird # name \\ back <&>"\' red nulbelesc';

/** Sum leaf counts over every document's top-level tests. */
export function leafCounts(result: RunResult): Counts {
  const counts = emptyCounts();
  for (const d of result.documents) for (const t of d.tests) countLeaves(t, counts);
  return counts;
}

/** Two documents (a boot and a module load) covering every status the reporters map. */
export function sampleResult(): RunResult {
  const example = node('example', 'fail', {
    durationMs: 57.25,
    attributes: { module: 'kunit_example_test' },
    log: ['initializing suite', 'example: pass:4 fail:1 skip:2 total:7'],
    children: numbered([
      node('example_simple_test', 'pass', { durationMs: 1.5, log: ['initializing'] }),
      node('example_fail_test', 'fail', {
        durationMs: 2,
        log: [
          'initializing',
          '\x1b[1;31mexample_fail_test: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:42\x1b[0m',
          'Expected 1 + 1 == 3, but',
          '    1 + 1 == 2 (0x2)\x07',
          'bad ]]> twice ]]> <tag> & "q"',
        ],
      }),
      node('example_skip_test', 'skip', { directive: 'SKIP', reason: 'this test should be skipped' }),
      node('example_params_test', 'pass', {
        durationMs: 3.1234,
        children: numbered([
          node('example value 3', 'pass'),
          node('example value 2', 'pass'),
          node('example value 1', 'pass'),
          node('example value 0', 'skip', { directive: 'SKIP', reason: 'unsupported param value 0' }),
        ]),
      }),
      node('example_todo_test', 'todo', { directive: 'TODO', reason: 'not written yet # see bug \\42' }),
      node('example_xfail_test', 'xfail', { directive: 'XFAIL', reason: 'known bug #123' }),
      node(WEIRD_NAME, 'pass', { log: ['log with # hash \\ backslash \x00 nul \x1b[32mgreen\x1b[0m'] }),
    ]),
  });

  const crash = {
    reason: 'Kernel panic - not syncing: Fatal exception',
    kind: 'panic' as const,
    trace: [
      'BUG: kernel NULL pointer dereference, address: 0000000000000000',
      'RIP: 0010:crashy_boom+0x12/0x30',
      'Call Trace:',
      ' <TASK>',
      ' kunit_try_run_case+0x5d/0x90',
    ],
    line: 88,
  };
  const crashy = node('crashy', 'crashed', {
    crash,
    children: numbered([
      node('crashy_ok', 'pass', { durationMs: 0 }),
      node('crashy_boom', 'crashed', { crash, log: ['about to dereference NULL'] }),
      node('crashy_after', 'not-run'),
    ]),
  });
  const troubled = node('troubled', 'fail', {
    children: numbered([
      node('slow_test', 'timeout', { directive: 'TIMEOUT', reason: 'exceeded 300 seconds' }),
      node('err_test', 'error', { directive: 'ERROR', reason: 'could not allocate #2' }),
      node('cut_test', 'incomplete', { log: ['started, never finished'] }),
    ]),
  });

  const exampleAgain = node('example', 'pass', {
    children: numbered([node('example_simple_test', 'pass', { durationMs: 0.4 })]),
  });
  const rust = node('rust_doctests_kernel', 'fail', {
    children: numbered([
      node('rust_doctest_kernel_sync_lock_rs_0', 'pass', {
        location: { file: 'rust/kernel/sync/lock.rs', line: 42 },
      }),
      node('rust_doctest_kernel_str_rs_3', 'fail', {
        location: { file: 'rust/kernel/str.rs', line: 123 },
        log: ['rust_doctest_kernel_str_rs_3: ASSERTION FAILED at rust/kernel/str.rs:130', 'Expected a == b to be true, but is false'],
      }),
    ]),
  });
  const earlyCrash = node('early_crash', 'crashed', {
    crash: { ...crash, reason: 'Oops: general protection fault', kind: 'gpf', line: 140 },
    log: ['suite_init ran'],
  });
  const empty = node('nothing_here', 'no-tests', { plan: 0 });

  const result: RunResult = {
    documents: [
      doc(0, [example, crashy, troubled], ['Totals: pass:6 fail:2 skip:3 total:11']),
      doc(1, [exampleAgain, rust, earlyCrash, empty]),
    ],
    diagnostics: [],
    counts: emptyCounts(),
    verdict: 'incomplete',
    lines: 200,
    metadata: { arch: 'x86_64', kernel: '6.12.0 <&>', 'weird\x07key': 'v\x1b[1mbold\x1b[0m' },
  };
  result.counts = leafCounts(result);
  return result;
}

/** A suite run three times (run --repeat 3): one flaky test, one skipped and not re-run. */
export function repeatedResult(): RunResult {
  const flaky = node('sometimes', 'fail', {
    number: 1,
    log: ['sometimes: EXPECTATION FAILED at x.c:1'],
    flaky: true,
    attempts: [
      { attempt: 1, status: 'pass' },
      { attempt: 2, status: 'fail' },
      { attempt: 3, status: 'pass' },
    ],
  });
  const steady = node('steady', 'skip', {
    number: 2,
    reason: 'no hw',
    attempts: [
      { attempt: 1, status: 'skip', reason: 'no hw' },
      { attempt: 2, status: 'skip', ran: false },
    ],
  });
  const suite = node('s', 'fail', { number: 1, children: [flaky, steady], flaky: true });
  return {
    documents: [{ index: 0, tests: [suite], log: [], complete: true, startLine: 1, endLine: 1, attributes: {} }],
    diagnostics: [],
    counts: { ...emptyCounts(), total: 2, failed: 1, skipped: 1 },
    verdict: 'failed',
    lines: 1,
    metadata: {},
  };
}
