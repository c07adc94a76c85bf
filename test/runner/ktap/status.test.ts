/** The status rules, one row per status: what it does to the verdict and the exit code, how it is shown and ordered. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleView, summarize } from '../../../reporters/console.js';
import { exitCodeFor } from '../../../runner/exit-codes.js';
import { countStatus, emptyCounts, type CrashInfo, type KtapDocument, type TestStatus } from '../../../runner/ktap/model.js';
import {
  crashOutsideTests,
  FAILING_STATUSES,
  INCOMPLETE_STATUSES,
  isNormalEnd,
  isShownFailing,
  lateCrash,
  PASSING_STATUSES,
  RULES,
  STATUS_RULES,
  verdictFor,
  worse,
  worstOf,
} from '../../../runner/ktap/status.js';
import { KtapStream } from '../../../runner/ktap/index.js';
import { pageStatusScript } from '../../../runner/live/page-status.js';
import { REPO } from '../../helpers/corpus.js';

/** Every status: [status, exit code of a run whose one leaf has it, shown as, console label, worse than pass?]. */
const TABLE: Array<[TestStatus, number, 'pass' | 'skip' | 'fail', string, boolean]> = [
  ['pass', 0, 'pass', 'PASSED', false],
  ['xfail', 0, 'pass', 'XFAIL', false],
  ['skip', 0, 'skip', 'SKIPPED', false],
  ['todo', 0, 'skip', 'TODO', false],
  ['no-tests', 3, 'skip', 'NO TESTS', false],
  ['not-run', 3, 'skip', 'NOT RUN', true],
  ['fail', 1, 'fail', 'FAILED', true],
  ['error', 1, 'fail', 'ERROR', true],
  ['timeout', 1, 'fail', 'TIMEOUT', true],
  ['incomplete', 3, 'fail', 'INCOMPLETE', true],
  ['crashed', 3, 'fail', 'CRASHED', true],
];

const doc = (complete = true): KtapDocument => ({ index: 0, tests: [], log: [], complete, startLine: 1, endLine: 2, attributes: {} });
const crash = (reason: string, kind: CrashInfo['kind'] = 'panic'): CrashInfo => ({ reason, kind, trace: [reason], line: 9 });

describe('every status', () => {
  it('has one rule, and the table covers them all', () => {
    expect(STATUS_RULES.map((r) => r.status).sort()).toEqual(TABLE.map((t) => t[0]).sort());
    expect(new Set(STATUS_RULES.map((r) => r.label)).size).toBe(STATUS_RULES.length);
    expect(new Set(STATUS_RULES.map((r) => r.badge)).size).toBe(STATUS_RULES.length);
  });

  it.each(TABLE)('%s: exit %i, shown as %s, labelled %s', (status, exit, shown, label, worseThanPass) => {
    const counts = emptyCounts();
    countStatus(counts, status);
    expect(exitCodeFor(verdictFor(counts, [doc()], true))).toBe(exit);
    expect(RULES[status].shown).toBe(shown);
    expect(isShownFailing(status)).toBe(shown === 'fail');
    expect(RULES[status].label).toBe(label);
    expect(RULES[status].rank > RULES.pass.rank).toBe(worseThanPass);
    expect(worse('pass', status)).toBe(worseThanPass ? status : 'pass');
    expect(FAILING_STATUSES.has(status)).toBe(exit === 1);
    expect(INCOMPLETE_STATUSES.has(status)).toBe(exit === 3 && status !== 'no-tests');
    expect(PASSING_STATUSES.has(status)).toBe(status === 'pass' || status === 'xfail');
    // The console paints and counts it as the table says.
    let out = '';
    const view = new ConsoleView({
      write: (t) => {
        out += t;
      },
      color: true,
    });
    view.onEvent({
      type: 'test-end',
      path: ['s', 't'],
      test: { name: 't', status, log: [], children: [], attributes: {}, line: 1 },
      document: 0,
    });
    view.flush();
    expect(out).toContain(`\x1b[${RULES[status].color}m[${label}]\x1b[0m t`);
    expect(summarize(counts)).toBe(RULES[status].count ? `Ran 1 test: ${RULES[status].countLabel}: 1` : 'Ran 0 tests');
  });

  it('orders attempts worst first: crashed, incomplete, timeout, error, fail, not-run, pass/xfail, todo, skip, no-tests', () => {
    const order = [...STATUS_RULES].sort((a, b) => b.rank - a.rank).map((r) => r.status);
    expect(order).toEqual(['crashed', 'incomplete', 'timeout', 'error', 'fail', 'not-run', 'pass', 'xfail', 'todo', 'skip', 'no-tests']);
    expect(
      worstOf([
        { status: 'pass' as TestStatus, n: 1 },
        { status: 'xfail' as TestStatus, n: 2 },
      ])?.n,
    ).toBe(1);
    expect(worstOf([])).toBeUndefined();
  });
});

describe('the verdict', () => {
  const one = (status: TestStatus) => {
    const c = emptyCounts();
    countStatus(c, status);
    return c;
  };

  it('incomplete beats failed; a document cut short is incomplete; no KTAP and no tests are their own', () => {
    const c = one('fail');
    countStatus(c, 'crashed');
    expect(verdictFor(c, [doc()], true)).toBe('incomplete');
    expect(verdictFor(one('pass'), [doc(false)], true)).toBe('incomplete');
    expect(verdictFor(emptyCounts(), [], false)).toBe('no-ktap');
    expect(verdictFor(emptyCounts(), [doc()], true)).toBe('no-tests');
  });

  it("the kernel's normal end after its tests is no failure; any other crash outside a test fails the run", () => {
    for (const reason of [
      'Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.',
      'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)',
      'Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000',
    ]) {
      expect(isNormalEnd(crash(reason))).toBe(true);
      expect(verdictFor(one('pass'), [doc()], true, crash(reason))).toBe('passed');
    }
    expect(isNormalEnd(crash('Kernel panic - not syncing: Fatal exception'))).toBe(false);
    expect(isNormalEnd(crash('Oops: general protection fault', 'oops'))).toBe(false);
    expect(verdictFor(one('pass'), [doc()], true, crash('BUG: unable to handle page fault', 'bug'))).toBe('failed');
    expect(verdictFor(one('crashed'), [doc()], true, crash('BUG: unable to handle page fault', 'bug'))).toBe('incomplete');
  });

  it('a crash a test carries is not a crash outside any test', () => {
    const c = crash('BUG: kernel NULL pointer dereference', 'bug');
    const d = {
      ...doc(),
      tests: [
        {
          name: 's',
          status: 'crashed' as TestStatus,
          log: [],
          attributes: {},
          line: 1,
          children: [{ name: 't', status: 'crashed' as TestStatus, log: [], children: [], attributes: {}, line: 1, crash: { ...c } }],
        },
      ],
    };
    const result = {
      documents: [d],
      diagnostics: [],
      counts: one('crashed'),
      verdict: 'incomplete' as const,
      lines: 1,
      metadata: {},
      crash: c,
    };
    expect(crashOutsideTests(result)).toBeUndefined();
    expect(lateCrash(result)).toBeUndefined();
    expect(crashOutsideTests({ ...result, documents: [doc()] })).toBe(c);
  });
});

it("the live page's status.js is generated from these rules (npm run build writes it)", () => {
  const file = readFileSync(join(REPO, 'runner/live/page/status.js'), 'utf8');
  expect(file).toBe(pageStatusScript());
  const scope: { KUNIT_BRIDGE_STATUS?: Array<{ status: string; shown: string; count: string | null }> } = {};
  new Function('globalThis', file)(scope);
  expect(scope.KUNIT_BRIDGE_STATUS?.map((r) => [r.status, r.shown, r.count])).toEqual(
    STATUS_RULES.map((r) => [r.status, r.shown, r.count ?? null]),
  );
});

describe('a suite that failed on its own (its cases passed)', () => {
  const log = (suiteLine: string): string => `KTAP version 1\n1..1\n    # Subtest: s\n    1..1\n    ok 1 t\n${suiteLine}`;
  it.each([
    ['not ok 1 s', 'failed'],
    ['not ok 1 s # ERROR suite_exit failed', 'failed'],
    ['ok 1 s', 'passed'],
    ['1..1', 'incomplete'],
  ])('%s: %s, with or without the tree kept', (line, verdict) => {
    for (const retain of [true, false]) {
      const stream = new KtapStream({ retain });
      stream.write(`${log(line)}\n`);
      expect(stream.finish().verdict, `retain ${retain}`).toBe(verdict);
    }
  });
});
