import { describe, expect, test } from 'vitest';
import type { StepOutcome } from '../../../agent/protocol.js';
import { foldAttempts, type StepRecord } from '../../../runner/agent/attempts.js';
import { crashOutsideTests } from '../../../runner/ktap/status.js';
import { flakyTests, KtapParser, parseLog, type RunResult, type TestNode } from '../../../runner/ktap/index.js';
import { readAgentLines } from '../../helpers/agent-run.js';

/** The boot: suite s (a, b, c skipped with a reason) and suite t (x). */
const BOOT = [
  'KTAP version 1',
  '1..2',
  '    KTAP version 1',
  '    # Subtest: s',
  '    1..3',
  '    ok 1 a',
  '    ok 2 b',
  '    ok 3 c # SKIP no hw',
  'ok 1 s',
  '    KTAP version 1',
  '    # Subtest: t',
  '    1..1',
  '    ok 1 x',
  'ok 2 t',
];

/** A debugfs re-run of a suite, as the kernel prints it: the suite's subtest at the top, no header of its own. */
function rerun(suite: string, results: string[]): string[] {
  const failed = results.some((r) => r.startsWith('not ok'));
  return [
    '    KTAP version 1',
    `    # Subtest: ${suite}`,
    `    1..${results.length}`,
    ...results.map((r, i) => `    ${r.replace('#N', String(i + 1))}`),
    `${failed ? 'not ok' : 'ok'} 1 ${suite}`,
  ];
}
const sAgain = (b: string, c = 'ok #N c # SKIP '): string[] => rerun('s', ['ok #N a', `${b} #N b`, c]);
const tAgain = (): string[] => rerun('t', ['ok #N x']);

/** A module's load: a document of its own. */
const MODULE = ['KTAP version 1', '1..1', '    KTAP version 1', '    # Subtest: m', '    1..1', '    ok 1 y', 'ok 1 m'];

const parse = (...docs: string[][]): RunResult => parseLog(docs.flat().join('\n'));
const ok: StepOutcome = { status: 0, ms: 3 };

/** Steps that re-ran `suites` in this order, for attempts 2..N, one document each from `firstDoc` on. */
function reruns(order: [suite: string, attempt: number][], firstDoc = 1, firstId = 1): StepRecord[] {
  return order.map(([suite, attempt], i) => ({
    id: firstId + i,
    step: { op: 'run', suite },
    attempt,
    firstDoc: firstDoc + i,
    endDoc: firstDoc + i + 1,
    outcome: ok,
  }));
}

const child = (node: TestNode, name: string): TestNode => {
  const c = node.children.find((n) => n.name === name);
  if (!c) throw new Error(`no ${name} in ${node.name}`);
  return c;
};
const statuses = (node: TestNode) => node.attempts?.map((a) => a.status);

describe('foldAttempts: --repeat', () => {
  const raw = parse(BOOT, sAgain('not ok'), tAgain(), sAgain('ok'), tAgain());
  const folded = foldAttempts(raw, {
    steps: reruns([
      ['s', 2],
      ['t', 2],
      ['s', 3],
      ['t', 3],
    ]),
    repeat: 3,
  });
  const [s, t] = folded.documents[0]!.tests as [TestNode, TestNode];

  test('re-runs become attempts 2..N of their suite and leave the document list', () => {
    expect(raw.documents).toHaveLength(5);
    expect(folded.documents).toHaveLength(1);
    expect(folded.documents[0]!.origin).toEqual({ kind: 'boot' });
    expect(s.attempts).toEqual([
      { attempt: 1, status: 'pass' },
      { attempt: 2, status: 'fail' },
      { attempt: 3, status: 'pass' },
    ]);
    expect(statuses(child(s, 'a'))).toEqual(['pass', 'pass', 'pass']);
    expect(statuses(t)).toEqual(['pass', 'pass', 'pass']);
    expect(statuses(child(t, 'x'))).toEqual(['pass', 'pass', 'pass']);
  });

  test('a test is the worst of its attempts; one that passed and failed is flaky, and so is its suite', () => {
    const b = child(s, 'b');
    expect(statuses(b)).toEqual(['pass', 'fail', 'pass']);
    expect(b.status).toBe('fail');
    expect(b.flaky).toBe(true);
    expect(s.status).toBe('fail');
    expect(s.flaky).toBe(true);
    expect(child(s, 'a').flaky).toBeUndefined();
    expect(t.flaky).toBeUndefined();
    expect(flakyTests(folded)).toEqual(['s.b (1/3 failed)']);
  });

  test('a skip with no reason after a skip is no attempt of its own (the kernel did not run it again)', () => {
    const c = child(s, 'c');
    expect(c.attempts).toEqual([
      { attempt: 1, status: 'skip', reason: 'no hw' },
      { attempt: 2, status: 'skip', ran: false },
      { attempt: 3, status: 'skip', ran: false },
    ]);
    expect(c.status).toBe('skip');
    expect(c.reason).toBe('no hw');
  });

  test('counts and verdict are those of the folded tree, not of every document parsed', () => {
    expect(raw.counts.total).toBe(4 + 3 + 1 + 3 + 1);
    expect(folded.counts).toMatchObject({ total: 4, passed: 2, failed: 1, skipped: 1, notRun: 0 });
    expect(folded.verdict).toBe('failed');
    expect(folded.diagnostics).toEqual([]);
  });

  test("the worst attempt's reason is kept, with its number", () => {
    const r = foldAttempts(parse(BOOT, sAgain('ok'), sAgain('not ok', 'not ok #N c # TIMEOUT too slow')), {
      steps: reruns([
        ['s', 2],
        ['s', 3],
      ]),
      repeat: 3,
    });
    const c = child(r.documents[0]!.tests[0]!, 'c');
    expect(statuses(c)).toEqual(['skip', 'skip', 'timeout']);
    expect(c.attempts![1]!.ran).toBe(false);
    expect(c).toMatchObject({ status: 'timeout', reason: 'attempt 3: too slow' });
    // skip and timeout: no pass among the attempts, so not flaky
    expect(c.flaky).toBeUndefined();
  });

  test('a crash in a re-run: the tests it never reached are found by number', () => {
    const crash = ['    KTAP version 1', '    # Subtest: s', '    1..3', '    ok 1 a', 'Kernel panic - not syncing: Fatal exception'];
    const raw2 = parse(BOOT, tAgain(), crash);
    expect(raw2.documents[2]!.tests[0]!.children.map((c) => c.name)).toEqual(['a', '#2', '#3']);
    const r = foldAttempts(raw2, {
      steps: [...reruns([['t', 2]]), { id: 2, step: { op: 'run', suite: 's' }, attempt: 2, firstDoc: 2 }],
      repeat: 2,
      cutShort: 'the kernel panicked',
    });
    const [s2] = r.documents[0]!.tests as [TestNode];
    expect(statuses(child(s2, 'b'))).toEqual(['pass', 'crashed']);
    expect(statuses(child(s2, 'c'))).toEqual(['skip', 'not-run']);
    expect(s2.status).toBe('crashed');
    expect(r.verdict).toBe('incomplete');
    expect(r.documents).toHaveLength(1);
    // The crash is the test's (its re-run document is folded away): not a crash outside any test too.
    expect(child(s2, 'b').crash?.reason).toBe('Kernel panic - not syncing: Fatal exception');
    expect(crashOutsideTests(r)).toBeUndefined();
  });

  test('attempts that never ran are not-run, with a warning: they change no status, the run is incomplete', () => {
    const r = foldAttempts(parse(BOOT, sAgain('ok'), tAgain(), sAgain('ok')), {
      steps: reruns([
        ['s', 2],
        ['t', 2],
        ['s', 3],
      ]),
      repeat: 3,
      cutShort: 'the kernel panicked',
    });
    const [s2, t2] = r.documents[0]!.tests as [TestNode, TestNode];
    expect(statuses(s2)).toEqual(['pass', 'pass', 'pass']);
    expect(statuses(t2)).toEqual(['pass', 'pass', 'not-run']);
    expect(statuses(child(t2, 'x'))).toEqual(['pass', 'pass', 'not-run']);
    // The status is the worst of the attempts that ran: what the tests did is not hidden.
    expect(t2.status).toBe('pass');
    expect(child(t2, 'x').attempts![2]).toEqual({ attempt: 3, status: 'not-run', reason: 'the run ended before this attempt' });
    expect(t2.flaky).toBeUndefined();
    expect(r.diagnostics).toEqual([
      {
        code: 'missing-result',
        severity: 'warning',
        line: 0,
        path: 't',
        message: 't: 1 of 3 attempts did not run (the kernel panicked)',
      },
    ]);
    expect(r.counts).toMatchObject({ total: 4, passed: 3, skipped: 1, notRun: 0 });
    expect(r.verdict).toBe('incomplete');
  });

  test('an attempt stopped in the middle: the test it was running is incomplete, the ones it never reached keep their status', () => {
    // Attempt 2 of s stops after `a` (Ctrl-C, a killed guest): the parser marks b incomplete, c not-run.
    const cut = ['    KTAP version 1', '    # Subtest: s', '    1..3', '    ok 1 a'];
    const r = foldAttempts(parseLog([...BOOT, ...cut].join('\n')), { steps: reruns([['s', 2]]), repeat: 2, cutShort: 'interrupted' });
    const s2 = r.documents[0]!.tests[0]!;
    expect(statuses(child(s2, 'a'))).toEqual(['pass', 'pass']);
    expect(child(s2, 'c').status).toBe('skip');
    // b was running when the output stopped: that is an outcome of its own (incomplete), not a gap.
    expect(statuses(child(s2, 'b'))).toEqual(['pass', 'incomplete']);
    expect(child(s2, 'b').status).toBe('incomplete');
    // c was never reached in attempt 2 (and was skipped, not re-run, anyway).
    expect(statuses(child(s2, 'c'))).toEqual(['skip', 'not-run']);
    expect(r.counts.notRun).toBe(0);
    expect(r.verdict).toBe('incomplete');
  });

  test('a suite without a debugfs run file ran once: no attempts, an info diagnostic, no warning', () => {
    const r = foldAttempts(parse(BOOT, tAgain(), tAgain()), {
      steps: [
        {
          id: 1,
          step: { op: 'run', suite: 's' },
          attempt: 2,
          firstDoc: 1,
          endDoc: 1,
          outcome: { status: 1, ms: 0, missing: true, note: 'no run file' },
        },
        ...reruns(
          [
            ['t', 2],
            ['t', 3],
          ],
          1,
          2,
        ),
      ],
      repeat: 3,
    });
    const [s2, t2] = r.documents[0]!.tests as [TestNode, TestNode];
    expect(s2.attempts).toBeUndefined();
    expect(s2.status).toBe('pass');
    expect(statuses(t2)).toEqual(['pass', 'pass', 'pass']);
    expect(r.diagnostics).toEqual([
      {
        code: 'missing-result',
        severity: 'info',
        line: 0,
        path: 's',
        message: 's ran once: it has no debugfs run file (an __init suite, or all its tests were filtered out)',
      },
    ]);
    expect(r.verdict).toBe('passed');
  });

  test('without --repeat nothing gets attempts', () => {
    const r = foldAttempts(parse(BOOT), { steps: [], repeat: 1 });
    expect(r.documents[0]!.tests.every((n) => n.attempts === undefined)).toBe(true);
    expect(r.documents[0]!.origin).toEqual({ kind: 'boot' });
    expect(flakyTests(r)).toEqual([]);
  });
});

describe('foldAttempts: modules and other steps', () => {
  const insmod = (path: string, firstDoc: number, endDoc: number | undefined, outcome = ok): StepRecord => ({
    id: 0,
    step: { op: 'insmod', path },
    firstDoc,
    ...(endDoc === undefined ? {} : { endDoc }),
    outcome,
  });

  test('module documents get their origin; a failed load is a not-run placeholder; one with no suite an info', () => {
    const r = foldAttempts(parse(BOOT, MODULE), {
      repeat: 1,
      steps: [
        { ...insmod('/mods/a_test.ko', 1, 2), id: 1 },
        { ...insmod('/mods/empty.ko', 2, 2), id: 2 },
        { ...insmod('/mods/broken.ko', 2, 2, { status: 1, ms: 5, note: 'Unknown symbol in module' }), id: 3 },
      ],
    });
    expect(r.documents.map((d) => d.origin)).toEqual([
      { kind: 'boot' },
      { kind: 'module', module: 'a_test.ko' },
      { kind: 'module', module: 'broken.ko' },
    ]);
    expect(r.documents.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(r.documents[2]!.tests).toMatchObject([
      { name: 'broken.ko', status: 'not-run', reason: 'insmod failed: Unknown symbol in module' },
    ]);
    expect(r.diagnostics).toEqual([
      { code: 'no-ktap', severity: 'info', line: 0, message: 'empty.ko loaded but ran no KUnit suite (none in it, or all filtered out)' },
      { code: 'missing-result', severity: 'error', line: 0, message: 'loading broken.ko failed: Unknown symbol in module' },
    ]);
    expect(r.counts).toMatchObject({ total: 6, passed: 4, skipped: 1, notRun: 1 });
    expect(r.verdict).toBe('incomplete');
  });

  test('modules never loaded are not-run placeholders saying why', () => {
    const r = foldAttempts(parse(BOOT), {
      steps: [],
      repeat: 1,
      modulesNotLoaded: ['late.ko', 'later.ko'],
      cutShort: 'the kernel panicked',
    });
    expect(r.documents.slice(1).map((d) => [d.origin, d.tests[0]!.name, d.tests[0]!.status, d.tests[0]!.reason])).toEqual([
      [{ kind: 'module', module: 'late.ko' }, 'late.ko', 'not-run', 'not loaded: the kernel panicked'],
      [{ kind: 'module', module: 'later.ko' }, 'later.ko', 'not-run', 'not loaded: the kernel panicked'],
    ]);
    expect(r.counts.notRun).toBe(2);
    expect(foldAttempts(parse(BOOT), { steps: [], repeat: 1, modulesNotLoaded: ['x.ko'] }).documents[1]!.tests[0]!.reason).toBe(
      'not loaded',
    );
  });

  test('a load cut short owns every document after it, and says nothing more (the crash is in its document)', () => {
    const r = foldAttempts(parse(BOOT, MODULE, MODULE), {
      repeat: 1,
      steps: [{ id: 1, step: { op: 'insmod', path: 'm.ko' }, firstDoc: 1 }],
    });
    expect(r.documents.map((d) => d.origin?.module)).toEqual([undefined, 'm.ko', 'm.ko']);
    expect(r.diagnostics).toEqual([]);
  });

  test('module suites get attempts too, and re-runs after a module keep their place', () => {
    const r = foldAttempts(parse(BOOT, MODULE, rerun('m', ['not ok #N y'])), {
      repeat: 2,
      steps: [{ ...insmod('/mods/m.ko', 1, 2), id: 1 }, ...reruns([['m', 2]], 2, 2)],
    });
    const m = r.documents[1]!.tests[0]!;
    expect(r.documents).toHaveLength(2);
    expect(statuses(child(m, 'y'))).toEqual(['pass', 'fail']);
    expect(flakyTests(r)).toEqual(['m.y (1/2 failed)']);
    // s and t were never re-run here
    expect(r.diagnostics.map((d) => [d.severity, d.path])).toEqual([
      ['warning', 's'],
      ['warning', 't'],
    ]);
  });

  test('a write that failed is an error diagnostic', () => {
    const r = foldAttempts(parse(BOOT), {
      repeat: 1,
      steps: [
        {
          id: 1,
          step: { op: 'write', path: '/proc/sys/kernel/panic_on_oops', value: '1' },
          firstDoc: 1,
          endDoc: 1,
          outcome: { status: 1, ms: 0, note: 'EACCES' },
        },
        { id: 2, step: { op: 'write', path: '/proc/sys/kernel/x', value: '0' }, firstDoc: 1, endDoc: 1, outcome: ok },
      ],
    });
    expect(r.diagnostics).toEqual([
      {
        code: 'missing-result',
        severity: 'error',
        line: 0,
        message: 'writing "1" to /proc/sys/kernel/panic_on_oops in the guest failed: EACCES',
      },
    ]);
    expect(r.verdict).toBe('passed');
  });
});

describe('flakyTests', () => {
  test('leaf paths joined with dots; attempts that did not run are not counted', () => {
    const boot = [
      'KTAP version 1',
      '1..1',
      '    KTAP version 1',
      '    # Subtest: s',
      '    1..1',
      '        KTAP version 1',
      '        # Subtest: p',
      '        1..1',
      '        ok 1 param 1',
      '    ok 1 p',
      'ok 1 s',
    ];
    const again = (line: string): string[] => [
      '    KTAP version 1',
      '    # Subtest: s',
      '    1..1',
      '        KTAP version 1',
      '        # Subtest: p',
      '        1..1',
      `        ${line}`,
      '    ok 1 p',
      'ok 1 s',
    ];
    const r = foldAttempts(parse(boot, again('ok 1 param 1 # SKIP flaky hw'), again('ok 1 param 1 # SKIP '), again('not ok 1 param 1')), {
      steps: reruns([
        ['s', 2],
        ['s', 3],
        ['s', 4],
      ]),
      repeat: 4,
    });
    const leaf = child(child(r.documents[0]!.tests[0]!, 'p'), 'param 1');
    expect(leaf.attempts!.map((a) => [a.status, a.ran])).toEqual([
      ['pass', undefined],
      ['skip', undefined],
      ['skip', false],
      ['fail', undefined],
    ]);
    expect(flakyTests(r)).toEqual(['s.p.param 1 (1/3 failed)']);
  });
});

describe('foldAttempts on the recorded run (4 modules, --repeat 3)', () => {
  /** The steps as the lane recorded them, read back from the agent's marker records. */
  function replay(): { result: RunResult; steps: StepRecord[] } {
    let documents = 0;
    const parser = new KtapParser({
      onEvent: (e) => {
        if (e.type === 'document-start') documents++;
      },
    });
    const steps: StepRecord[] = [];
    const attempts = new Map<string, number>();
    for (const line of readAgentLines()) {
      const begin = /kunit-bridge: step (\d+) begin (insmod|run) (\S+)$/.exec(line);
      if (begin) {
        const [, id, op, arg] = begin as unknown as [string, string, string, string];
        if (op === 'insmod') steps.push({ id: Number(id), step: { op, path: arg }, firstDoc: documents });
        else {
          attempts.set(arg, (attempts.get(arg) ?? 1) + 1);
          steps.push({ id: Number(id), step: { op: 'run', suite: arg }, attempt: attempts.get(arg)!, firstDoc: documents });
        }
      }
      const end = /kunit-bridge: step (\d+) end status=(\d+) ms=(\d+)(?: (".*"))?$/.exec(line);
      if (end) {
        const step = steps.find((s) => s.id === Number(end[1]))!;
        const note = end[4] === undefined ? undefined : (JSON.parse(end[4]) as string);
        step.endDoc = documents;
        step.outcome = { status: Number(end[2]), ms: Number(end[3]), ...(note ? { note, missing: note.includes('does not exist') } : {}) };
      }
      parser.push(line);
    }
    return { result: parser.finish(), steps };
  }

  test('46 documents fold into the boot and 3 module loads; every suite with a run file has 3 attempts', () => {
    const { result, steps } = replay();
    expect(steps).toHaveLength(47);
    expect(result.documents).toHaveLength(46);
    const folded = foldAttempts(result, { steps, repeat: 3 });
    expect(folded.documents.map((d) => d.origin)).toEqual([
      { kind: 'boot' },
      { kind: 'module', module: 'cmdline_kunit.ko' },
      { kind: 'module', module: 'list-test.ko' },
      { kind: 'module', module: 'rust_kunit_fixture_mod.ko' },
    ]);
    const suites = folded.documents.flatMap((d) => d.tests);
    expect(suites.filter((t) => t.attempts?.length !== 3).map((t) => t.name)).toEqual(['example_init']);
    const fixture = suites.find((t) => t.name === 'rust_kunit_fixture')!;
    expect(statuses(child(fixture, 'rust_fixture_fail'))).toEqual(['fail', 'fail', 'fail']);
    expect(fixture.flaky).toBeUndefined();
    // example_skip_test was skipped at boot, so the re-runs do not run it again.
    const skip = child(suites.find((t) => t.name === 'example')!, 'example_skip_test');
    expect(skip.attempts!.map((a) => a.ran)).toEqual([undefined, false, false]);
    expect(flakyTests(folded)).toEqual([]);
    expect(folded.diagnostics.filter((d) => d.line === 0).map((d) => d.message)).toEqual([
      'rust_minimal.ko loaded but ran no KUnit suite (none in it, or all filtered out)',
      'example_init ran once: it has no debugfs run file (an __init suite, or all its tests were filtered out)',
    ]);
    // Leaves of the boot and the module loads, each once (the plain parse counts every re-run too).
    expect(folded.counts).toMatchObject({ total: 267, passed: 257, failed: 2, skipped: 8, notRun: 0 });
    expect(result.counts.total).toBe(799);
    expect(folded.verdict).toBe('failed');
  });
});
