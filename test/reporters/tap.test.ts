import { describe, expect, it } from 'vitest';
import { tapReporter } from '../../reporters/tap.js';
import type { RunResult } from '../../runner/ktap/model.js';
import { emptyCounts } from '../../runner/ktap/model.js';
import { expectedTally, leafTally, parseTap } from '../helpers/tap.js';
import { WEIRD_NAME_CLEAN, leafCounts, repeatedResult, sampleResult } from '../helpers/sample-result.js';

describe('tapReporter', () => {
  const result = sampleResult();
  const tap = tapReporter.render(result);

  it('is named tap and starts as TAP 14', () => {
    expect(tapReporter.name).toBe('tap');
    expect(tap.startsWith('TAP version 14\n1..7\n')).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(tap).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it('parses back without TAP errors, plans satisfied at every level', async () => {
    const parsed = await parseTap(tap);
    for (const { name, final } of parsed.finals) {
      expect(
        final.failures.filter((f) => 'tapError' in f && f.tapError),
        name,
      ).toEqual([]);
      expect(final.plan.end, name).toBe(final.count);
    }
    expect(parsed.top.count).toBe(7);
    expect(parsed.top.ok).toBe(false);
    expect(parsed.children).toEqual([
      'example',
      'example_params_test',
      'crashy',
      'troubled',
      'example',
      'rust_doctests_kernel',
      'nothing_here',
    ]);
  });

  it('keeps leaf counts equal to the model', async () => {
    const parsed = await parseTap(tap);
    const model = leafCounts(result);
    expect(leafTally(parsed)).toEqual(expectedTally(model));
    // and tap-parser's own per-level totals agree once closing test points are taken out
    let skip = 0;
    let todo = 0;
    let count = 0;
    for (const { final } of parsed.finals) {
      skip += final.skip;
      todo += final.todo;
      count += final.count;
    }
    const closing = parsed.asserts.filter((a) => a.result.closingTestPoint).map((a) => a.result);
    expect(count - closing.length).toBe(model.total);
    expect(skip - closing.filter((r) => r.skip).length).toBe(model.skipped + model.notRun);
    expect(todo - closing.filter((r) => r.todo).length).toBe(model.todo);
  });

  it('writes a not-run test as a skip: not a failure of its own (tap-parser counts every `not ok` as one)', async () => {
    const parsed = await parseTap(tap);
    const notRun = parsed.asserts.find((a) => a.result.name === 'crashy_after')?.result;
    expect(notRun?.ok).toBe(true);
    expect(notRun?.skip).toBe('not run: the run ended before this test');
    expect(notRun?.diag).toMatchObject({ status: 'not-run' });
  });

  it('round-trips escaped names and reasons', async () => {
    const parsed = await parseTap(tap);
    const names = parsed.asserts.map((a) => a.result.name);
    expect(names).toContain(WEIRD_NAME_CLEAN);
    expect(tap).toContain('weird \\# name \\\\ back');
    const todo = parsed.asserts.find((a) => a.result.name === 'example_todo_test')?.result;
    expect(todo?.ok).toBe(false);
    expect(todo?.todo).toBe('not written yet # see bug \\42');
    const skip = parsed.asserts.find((a) => a.result.name === 'example value 0')?.result;
    expect(skip?.skip).toBe('unsupported param value 0');
  });

  it('writes YAML diagnostics for crashes, timeouts, errors, xfail and located failures', async () => {
    const parsed = await parseTap(tap);
    const diag = (name: string): unknown => parsed.asserts.find((a) => a.result.name === name)?.result.diag;
    expect(diag('crashy_boom')).toMatchObject({
      status: 'crashed',
      reason: 'Kernel panic - not syncing: Fatal exception',
      crash_kind: 'panic',
      trace: expect.arrayContaining(['RIP: 0010:crashy_boom+0x12/0x30', ' <TASK>']),
    });
    expect(diag('slow_test')).toMatchObject({ status: 'timeout', reason: 'exceeded 300 seconds' });
    expect(diag('err_test')).toMatchObject({ status: 'error', reason: 'could not allocate #2' });
    expect(diag('cut_test')).toMatchObject({ status: 'incomplete' });
    expect(diag('early_crash')).toMatchObject({ status: 'crashed', reason: 'Oops: general protection fault' });
    expect(diag('example_xfail_test')).toMatchObject({ status: 'xfail', reason: 'known bug #123' });
    expect(diag('rust_doctest_kernel_str_rs_3')).toMatchObject({ at: { file: 'rust/kernel/str.rs', line: 123 } });
    const xfail = parsed.asserts.find((a) => a.result.name === 'example_xfail_test')?.result;
    expect(xfail?.ok).toBe(true);
    expect(xfail?.todo).toBe(false);
  });

  it('puts logs as comments before the result line', () => {
    expect(tap).toContain('    #     1 + 1 == 2 (0x2)\n    # bad ]]> twice ]]> <tag> & "q"\n    not ok 2 - example_fail_test\n');
    expect(tap).toContain('# suite_init ran\nnot ok 6 - early_crash\n');
  });

  it('cannot be fooled by a log line that looks like a subtest header', async () => {
    const r = sampleResult();
    const first = r.documents[0]?.tests[0]?.children[0];
    first?.log.push('Subtest: fake');
    const parsed = await parseTap(tapReporter.render(r));
    expect(parsed.children).not.toContain('fake');
    expect(leafTally(parsed).total).toBe(leafCounts(r).total);
  });

  it('bails out when there was no KTAP at all', async () => {
    const none: RunResult = {
      documents: [],
      diagnostics: [],
      counts: emptyCounts(),
      verdict: 'no-ktap',
      lines: 3,
      metadata: {},
    };
    const parsed = await parseTap(tapReporter.render(none));
    expect(parsed.bailout).toBe('no KTAP output found: did any KUnit tests run?');
    expect(parsed.top.ok).toBe(false);
  });
});

describe('tapReporter with attempts (run --repeat)', () => {
  it('lists every attempt in a comment before the test point, and still reads back', async () => {
    const tap = tapReporter.render(repeatedResult());
    expect(tap).toContain('    # attempts: 1 pass, 2 fail, 3 pass (flaky)\n    not ok 1 - sometimes');
    expect(tap).toContain('    # attempts: 1 skip, 2 not re-run\n    ok 2 - steady # SKIP no hw');
    const parsed = await parseTap(tap);
    expect(parsed.top.ok).toBe(false);
    expect(parsed.children).toEqual(['s']);
  });
});
