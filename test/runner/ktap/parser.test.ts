/**
 * The parser on small, hand-written inputs: one behaviour per test. The
 * corpus test covers the real logs; these pin down the rules.
 */
import { describe, expect, test } from 'vitest';
import { KtapParser, parseLog, type KtapEvent, type RunResult, type TestNode } from '../../../runner/ktap/index.js';

const parse = (lines: string[]): RunResult => parseLog(`${lines.join('\n')}\n`);
const suites = (r: RunResult): TestNode[] => r.documents.flatMap((d) => d.tests);
const find = (r: RunResult, path: string): TestNode => {
  let nodes = suites(r);
  let node: TestNode | undefined;
  for (const name of path.split('/')) {
    node = nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no ${name} in ${nodes.map((n) => n.name).join(', ')}`);
    nodes = node.children;
  }
  return node!;
};

const SUITE = [
  'KTAP version 1',
  '1..1',
  '    KTAP version 1',
  '    # Subtest: example',
  '    # module: kunit_example_test',
  '    1..3',
  '    # example_simple_test: initializing',
  '    ok 1 example_simple_test',
  '    # example_fail: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:29',
  '    Expected 1 + 1 == 3, but',
  '        1 + 1 == 2 (0x2)',
  '    not ok 2 example_fail',
  '    ok 3 example_skip # SKIP this test should be skipped',
  '# example: pass:1 fail:1 skip:1 total:3',
  '# Totals: pass:1 fail:1 skip:1 total:3',
  'not ok 1 example',
];

describe('KTAP grammar', () => {
  test('suite, cases, log lines, directive, stats and attributes', () => {
    const r = parse(SUITE);
    expect(r.verdict).toBe('failed');
    expect(r.counts).toMatchObject({ total: 3, passed: 1, failed: 1, skipped: 1 });
    const suite = find(r, 'example');
    expect(suite.status).toBe('fail');
    expect(suite.attributes).toEqual({ module: 'kunit_example_test' });
    expect(suite.stats).toEqual({ pass: 1, fail: 1, skip: 1, total: 3 });
    const fail = find(r, 'example/example_fail');
    expect(fail.log).toEqual([
      'example_fail: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:29',
      'Expected 1 + 1 == 3, but',
      '    1 + 1 == 2 (0x2)',
    ]);
    expect(find(r, 'example/example_skip')).toMatchObject({ status: 'skip', directive: 'SKIP', reason: 'this test should be skipped' });
    expect(r.diagnostics).toEqual([]);
  });

  test.each([
    ['ok 1 t # SKIP why', 'skip'],
    ['not ok 1 t # TODO not yet', 'todo'],
    ['not ok 1 t # XFAIL known bug', 'xfail'],
    ['not ok 1 t # TIMEOUT after 300 s', 'timeout'],
    ['not ok 1 t # ERROR could not start', 'error'],
    ['ok 1 - t', 'pass'],
    ['not ok 1 t', 'fail'],
    ['ok 1 t # skip lower case', 'skip'],
  ])('directive: %s → %s', (line, status) => {
    const r = parse(['KTAP version 1', '1..1', line]);
    expect(suites(r)[0]!.status).toBe(status);
    expect(suites(r)[0]!.name).toBe('t');
  });

  test('TIMEOUT and ERROR fail the run, TODO and XFAIL do not', () => {
    expect(parse(['KTAP version 1', '1..1', 'not ok 1 t # TIMEOUT']).verdict).toBe('failed');
    expect(parse(['KTAP version 1', '1..1', 'not ok 1 t # ERROR']).verdict).toBe('failed');
    expect(parse(['KTAP version 1', '1..2', 'not ok 1 t # TODO', 'not ok 2 u # XFAIL']).verdict).toBe('passed');
  });

  test('escaped # in names and the first unescaped " #" starting the directive', () => {
    const r = parse(['TAP version 14', '1..1', 'ok 1 - a \\# b#c # SKIP x \\# y']);
    expect(suites(r)[0]).toMatchObject({ name: 'a # b#c', status: 'skip', reason: 'x # y' });
  });

  test('nesting by 2 spaces, by tabs, and parameterised cases', () => {
    const r = parse([
      'KTAP version 1',
      '1..1',
      '  KTAP version 1',
      '  # Subtest: s',
      '  1..1',
      '\tKTAP version 1',
      '\t# Subtest: p',
      '\t\tok 1 p1',
      '\t\tok 2 p2 # SKIP no',
      '  ok 1 p',
      'ok 1 s',
    ]);
    expect(find(r, 's/p').children.map((c) => c.status)).toEqual(['pass', 'skip']);
    expect(r.counts).toMatchObject({ total: 2, passed: 1, skipped: 1 });
  });

  test('test-level attributes and Rust doctest locations go to their test', () => {
    const r = parse([
      'KTAP version 1',
      '1..1',
      '    KTAP version 1',
      '    # Subtest: rust_doctests_kernel',
      '    1..2',
      '    # rust_doctest_kernel_a_rs_0.location: rust/kernel/a.rs:12',
      '    ok 1 rust_doctest_kernel_a_rs_0',
      '    # rust_doctest_kernel_a_rs_1.location: rust/kernel/a.rs:40',
      '    # rust_doctest_kernel_a_rs_1.speed: slow',
      '    ok 2 rust_doctest_kernel_a_rs_1',
      'ok 1 rust_doctests_kernel',
    ]);
    expect(find(r, 'rust_doctests_kernel/rust_doctest_kernel_a_rs_0').location).toEqual({ file: 'rust/kernel/a.rs', line: 12 });
    const second = find(r, 'rust_doctests_kernel/rust_doctest_kernel_a_rs_1');
    expect(second.location).toEqual({ file: 'rust/kernel/a.rs', line: 40 });
    expect(second.attributes).toEqual({ speed: 'slow' });
  });

  test('no KTAP at all is an error, not a pass; 1..0 is no tests', () => {
    const none = parse(['Linux version 6.12', 'random: crng init done']);
    expect(none.verdict).toBe('no-ktap');
    expect(none.diagnostics.map((d) => d.code)).toContain('no-ktap');
    expect(parse(['KTAP version 1', '1..0']).verdict).toBe('no-tests');
    expect(parseLog('').verdict).toBe('no-ktap');
  });

  test('plan and number mismatches become diagnostics', () => {
    const r = parse(['KTAP version 1', '1..2', 'ok 1 a', 'ok 3 b']);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['number-mismatch']);
    expect(r.verdict).toBe('passed');
  });
});

describe('real consoles', () => {
  test('printk timestamps, caller ids, log levels, CRLF and \\r\\r\\n', () => {
    const r = parseLog(
      `${[
        '<6>[    1.000000][    T1] KTAP version 1',
        '[    1.000100][    T1] 1..1',
        '[    1.000200][    T1]     # Subtest: s',
        '[    1.000300][    T1]     1..1',
        '[    1.500300][    T1]     ok 1 t',
        '[    2.000000][    T1] ok 1 s',
      ].join('\r\r\n')}\r\n`,
    );
    expect(r.verdict).toBe('passed');
    // The first case starts when its suite does.
    expect(find(r, 's/t').durationMs).toBe(500.1);
    expect(find(r, 's').durationMs).toBe(999.8);
  });

  test('a printk timestamp that lost its "]" on a starved UART still reads as one', () => {
    // Seen in a loaded CI run: `[    0.532009     ok 61 rust_doctest_kernel_rbtree_rs_0`.
    const r = parseLog(
      [
        '[    0.5] KTAP version 1',
        '[    0.5] 1..1',
        '[    0.500001]     # Subtest: s',
        '[    0.500002]     1..2',
        '[    0.500003]     ok 1 a',
        '[    0.532009     ok 2 b',
        '[    0.600000] ok 1 s',
      ].join('\n'),
    );
    expect(r.counts).toMatchObject({ total: 2, passed: 2 });
    expect(r.diagnostics).toEqual([]);
    // Only the printk shape (six decimals) is taken: other bracketed text stays text.
    const text = parseLog(['[    0.5] KTAP version 1', '[    0.5] 1..1', '[    0.5] # x', '[1.5 ok 1 a'].join('\n'));
    expect(text.verdict).toBe('incomplete');
  });

  test("interleaved kernel messages change nothing and land in the running test's log", () => {
    const noisy: string[] = [];
    for (const l of SUITE) {
      noisy.push(l);
      noisy.push('random: crng init done');
      noisy.push('    ok this is not a result');
      noisy.push('clocksource: Switched to clocksource tsc');
    }
    const clean = parse(SUITE);
    const r = parse(noisy);
    expect(r.counts).toEqual(clean.counts);
    expect(r.diagnostics).toEqual([]);
    expect(find(r, 'example/example_simple_test').log).toContain('random: crng init done');
  });

  test('a fixed prefix before the version line is stripped from every line', () => {
    const r = parse(SUITE.map((l) => `kunit-vm0: ${l}`));
    expect(r.counts).toEqual(parse(SUITE).counts);
  });

  test('lines without printk prefix inside a printk document are not KTAP', () => {
    const r = parse([
      '[    1.0] KTAP version 1',
      '[    1.0] 1..1',
      '[agent] | not ok 1 echoed',
      '[agent] | KTAP version 1',
      '[    1.1] ok 1 real',
    ]);
    expect(suites(r).map((t) => `${t.name}:${t.status}`)).toEqual(['real:pass']);
  });

  test('several KTAP documents are all kept', () => {
    const r = parse([...SUITE, 'insmod: loading', ...SUITE.map((l) => l.replace('example', 'again'))]);
    expect(r.documents).toHaveLength(2);
    expect(suites(r).map((t) => t.name)).toEqual(['example', 'again']);
    expect(r.counts.total).toBe(6);
  });

  test('a suite printed on its own (debugfs re-run) is a document of its own', () => {
    const rerun = ['    KTAP version 1', '    # Subtest: s', '    1..1', '    ok 1 t', 'ok 1 s'];
    const r = parse([...rerun, ...rerun]);
    expect(r.documents).toHaveLength(2);
    expect(r.documents.every((d) => d.complete && d.tests[0]!.name === 's')).toBe(true);
    expect(r.diagnostics).toEqual([]);
  });
});

describe('crashes and cut output', () => {
  const HEAD = ['KTAP version 1', '1..3', '    KTAP version 1', '    # Subtest: s', '    1..3', '    ok 1 a', '    # b: about to fault'];

  test("an Oops followed by the test's own result line is part of its log, not a crash", () => {
    const r = parse([
      ...HEAD,
      'BUG: kernel NULL pointer dereference, address: 0000000000000000',
      'Oops: 0002 [#1]',
      '---[ end trace 0000000000000000 ]---',
      '    # b: try faulted',
      '    ok 2 b',
      '    ok 3 c',
      'ok 1 s',
      'ok 2 x',
      'ok 3 y',
    ]);
    expect(r.verdict).toBe('passed');
    expect(find(r, 's/b').log).toContain('Oops: 0002 [#1]');
    expect(find(r, 's/b').crash).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['oops-recovered']);
  });

  test('a panic marks the running test crashed (named from its diagnostics) and the rest not run', () => {
    const r = parse([
      ...HEAD,
      'BUG: kernel NULL pointer dereference',
      'Call Trace:',
      'Kernel panic - not syncing: Fatal exception',
      '---[ end Kernel panic - not syncing: Fatal exception ]---',
    ]);
    expect(r.verdict).toBe('incomplete');
    const b = find(r, 's/b');
    expect(b.status).toBe('crashed');
    expect(b.crash?.reason).toBe('BUG: kernel NULL pointer dereference');
    expect(b.crash?.trace).toEqual([
      'BUG: kernel NULL pointer dereference',
      'Call Trace:',
      'Kernel panic - not syncing: Fatal exception',
      '---[ end Kernel panic - not syncing: Fatal exception ]---',
    ]);
    expect(b.log).toEqual(['b: about to fault']);
    expect(find(r, 's/#3').status).toBe('not-run');
    expect(find(r, 's').status).toBe('crashed');
    expect(suites(r).map((t) => `${t.name}:${t.status}`)).toEqual(['s:crashed', '#2:not-run', '#3:not-run']);
    expect(r.counts).toMatchObject({ passed: 1, crashed: 1, notRun: 3 });
    expect(r.documents[0]!.complete).toBe(false);
  });

  test('a non-fatal Oops and then the output ends: crashed, not incomplete', () => {
    const r = parse([...HEAD, 'Oops: 0002 [#1]']);
    expect(find(r, 's/b').status).toBe('crashed');
  });

  test('output cut short is incomplete, never a pass', () => {
    const r = parse(HEAD);
    expect(r.verdict).toBe('incomplete');
    expect(find(r, 's/b').status).toBe('incomplete');
    expect(r.diagnostics.map((d) => d.code)).toContain('incomplete-output');
  });

  test('finish({status: "timeout"}) marks the running test TIMEOUT and its suite incomplete', () => {
    const p = new KtapParser();
    for (const l of HEAD) p.push(l);
    const r = p.finish({ status: 'timeout', message: 'no KTAP for 30 s' });
    expect(find(r, 's/b')).toMatchObject({ status: 'timeout', reason: 'no KTAP for 30 s' });
    expect(find(r, 's').status).toBe('incomplete');
  });

  test('a panic after the last test is noted but fails nothing', () => {
    const r = parse([...SUITE.slice(0, -1), 'ok 1 example', 'Kernel panic - not syncing: No working init found.']);
    expect(r.verdict).toBe('failed');
    expect(r.crash?.reason).toBe('Kernel panic - not syncing: No working init found.');
  });
});

describe('events', () => {
  test('arrive in input order with paths, and caller clocks give durations', () => {
    const events: KtapEvent[] = [];
    const p = new KtapParser({ onEvent: (e) => events.push(e) });
    let t = 1000;
    for (const l of SUITE) p.push(l, undefined, (t += 10));
    p.finish();
    expect(events.map((e) => e.type)).toEqual([
      'document-start',
      'plan',
      'test-start',
      'plan',
      'log',
      'test-end',
      'log',
      'log',
      'log',
      'test-end',
      'test-end',
      'log',
      'log',
      'test-end',
      'document-end',
    ]);
    const ends = events.filter((e): e is Extract<KtapEvent, { type: 'test-end' }> => e.type === 'test-end');
    expect(ends.map((e) => e.path.join('/'))).toEqual([
      'example/example_simple_test',
      'example/example_fail',
      'example/example_skip',
      'example',
    ]);
    // From the suite's own KTAP header (line 3, 1030 ms) to its first result (line 8, 1080 ms).
    expect(ends[0]!.test.durationMs).toBe(50);
  });

  test('retain: false keeps counts and events but not the tree', () => {
    const r = parseLog(SUITE.join('\n'), { retain: false });
    expect(r.counts.total).toBe(3);
    expect(r.documents[0]!.tests).toEqual([]);
  });
});
