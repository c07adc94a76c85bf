/**
 * The status rules, in one place: what each test status means for the run
 * (passes, fails, leaves it incomplete, or neither), how it is shown (label,
 * badge, colour), how bad it is (worst-of order for repeated attempts), which
 * count it adds to, and how a run's counts, documents and late crash make its
 * verdict. The tree, merge, attempts, every view and reporter, the exit code
 * and the live page (through the generated `runner/live/page/status.js`) use
 * these and nothing else. Pure; no imports but types.
 */
import type { Counts, CrashInfo, KtapDocument, RunResult, TestNode, TestStatus, Verdict } from './model.js';

/** What a status does to the run's verdict. */
export type Effect =
  /** Counts as a pass. */
  | 'pass'
  /** Neither passes nor fails (skip, todo, no tests). */
  | 'neutral'
  /** Fails the run: exit 1. */
  | 'fail'
  /** The run did not complete: exit 3. */
  | 'incomplete';

/** How a status is shown: as a pass, a skip, or a failure (listed under "Failures", expanded, red). */
export type Shown = 'pass' | 'skip' | 'fail';

export interface StatusRule {
  status: TestStatus;
  effect: Effect;
  shown: Shown;
  /** Console label, `[PASSED]` without brackets. */
  label: string;
  /** Short badge word (live page). */
  badge: string;
  /** ANSI SGR colour code. */
  color: string;
  /** Worst-of order: higher is worse. */
  rank: number;
  /** The {@link Counts} field a leaf with this status adds to (none: not a test). */
  count: keyof Counts | undefined;
  /** That count's words in summaries (`3 timed out`). */
  countLabel: string | undefined;
}

/** Every status, in the order they are listed (best first). */
export const STATUS_RULES: readonly StatusRule[] = [
  {
    status: 'pass',
    effect: 'pass',
    shown: 'pass',
    label: 'PASSED',
    badge: 'pass',
    color: '32',
    rank: 3,
    count: 'passed',
    countLabel: 'passed',
  },
  {
    status: 'xfail',
    effect: 'pass',
    shown: 'pass',
    label: 'XFAIL',
    badge: 'xfail',
    color: '32',
    rank: 3,
    count: 'xfail',
    countLabel: 'xfail',
  },
  {
    status: 'skip',
    effect: 'neutral',
    shown: 'skip',
    label: 'SKIPPED',
    badge: 'skip',
    color: '33',
    rank: 1,
    count: 'skipped',
    countLabel: 'skipped',
  },
  {
    status: 'todo',
    effect: 'neutral',
    shown: 'skip',
    label: 'TODO',
    badge: 'todo',
    color: '33',
    rank: 2,
    count: 'todo',
    countLabel: 'todo',
  },
  {
    status: 'no-tests',
    effect: 'neutral',
    shown: 'skip',
    label: 'NO TESTS',
    badge: 'empty',
    color: '33',
    rank: 0,
    count: undefined,
    countLabel: undefined,
  },
  {
    status: 'not-run',
    effect: 'incomplete',
    shown: 'skip',
    label: 'NOT RUN',
    badge: 'not run',
    color: '33',
    rank: 4,
    count: 'notRun',
    countLabel: 'not run',
  },
  {
    status: 'fail',
    effect: 'fail',
    shown: 'fail',
    label: 'FAILED',
    badge: 'fail',
    color: '31',
    rank: 5,
    count: 'failed',
    countLabel: 'failed',
  },
  {
    status: 'error',
    effect: 'fail',
    shown: 'fail',
    label: 'ERROR',
    badge: 'error',
    color: '31',
    rank: 6,
    count: 'errors',
    countLabel: 'errors',
  },
  {
    status: 'timeout',
    effect: 'fail',
    shown: 'fail',
    label: 'TIMEOUT',
    badge: 'timeout',
    color: '31',
    rank: 7,
    count: 'timeout',
    countLabel: 'timed out',
  },
  {
    status: 'incomplete',
    effect: 'incomplete',
    shown: 'fail',
    label: 'INCOMPLETE',
    badge: 'incomplete',
    color: '31',
    rank: 8,
    count: 'incomplete',
    countLabel: 'incomplete',
  },
  {
    status: 'crashed',
    effect: 'incomplete',
    shown: 'fail',
    label: 'CRASHED',
    badge: 'crash',
    color: '1;31',
    rank: 9,
    count: 'crashed',
    countLabel: 'crashed',
  },
];

/** The order counts are listed in summaries: passes, then failures, then the rest. */
export const SUMMARY_ORDER: readonly TestStatus[] = [
  'pass',
  'fail',
  'crashed',
  'timeout',
  'error',
  'incomplete',
  'skip',
  'todo',
  'xfail',
  'not-run',
];

/** The rule of each status. */
export const RULES: Readonly<Record<TestStatus, StatusRule>> = Object.fromEntries(STATUS_RULES.map((r) => [r.status, r])) as Record<
  TestStatus,
  StatusRule
>;

/** Statuses that make a run fail (exit 1). */
export const FAILING_STATUSES: ReadonlySet<TestStatus> = statuses((r) => r.effect === 'fail');
/** Statuses that mean the run did not complete (exit 3). */
export const INCOMPLETE_STATUSES: ReadonlySet<TestStatus> = statuses((r) => r.effect === 'incomplete');
/** Statuses that count as a pass. */
export const PASSING_STATUSES: ReadonlySet<TestStatus> = statuses((r) => r.effect === 'pass');
/** Statuses shown as failures: listed, expanded, red. */
export const SHOWN_FAILING: ReadonlySet<TestStatus> = statuses((r) => r.shown === 'fail');

function statuses(pick: (r: StatusRule) => boolean): ReadonlySet<TestStatus> {
  return new Set(STATUS_RULES.filter(pick).map((r) => r.status));
}

/** Is this status shown as a failure (fail, error, timeout, incomplete, crashed)? */
export function isShownFailing(status: TestStatus): boolean {
  return RULES[status].shown === 'fail';
}

/** The worse of two statuses (the first on a tie). */
export function worse(a: TestStatus, b: TestStatus): TestStatus {
  return RULES[b].rank > RULES[a].rank ? b : a;
}

/** The worst of some items by their status (the first on a tie); undefined when empty. */
export function worstOf<T extends { status: TestStatus }>(items: readonly T[]): T | undefined {
  let worst: T | undefined;
  for (const item of items) if (worst === undefined || RULES[item.status].rank > RULES[worst.status].rank) worst = item;
  return worst;
}

// ---- tests with children that failed on their own ------------------------------------------

/** Is any leaf under `node` (or `node`, a leaf) shown as failing, or not run? */
function anyBadLeaf(node: TestNode): boolean {
  if (node.children.length === 0) return isShownFailing(node.status) || node.status === 'not-run';
  return node.children.some(anyBadLeaf);
}

/**
 * A test with children that failed on its own — `not ok` although every case
 * passed (suite_init/exit), or no result line of its own — while none of its
 * leaves shows it. Counts are of leaves, so this is what the verdict adds.
 */
export function failedOnItsOwn(node: TestNode): boolean {
  return node.children.length > 0 && isShownFailing(node.status) && !node.children.some(anyBadLeaf);
}

/** The tests (suites, parameterised cases) under these that failed on their own. */
export function ownFailures(tests: readonly TestNode[]): TestNode[] {
  const out: TestNode[] = [];
  const walk = (n: TestNode): void => {
    if (failedOnItsOwn(n)) out.push(n);
    n.children.forEach(walk);
  };
  tests.forEach(walk);
  return out;
}

/** What failed on its own adds to the verdict: the worst such effect. */
export function ownFailureEffect(nodes: readonly TestNode[]): Effect | undefined {
  const worst = worstOf(nodes);
  return worst ? RULES[worst.status].effect : undefined;
}

// ---- the kernel's own end, and crashes outside any test ----------------------------------

/**
 * The panics a kernel prints when it has nothing left to do after its built-in
 * tests: no init to run, no root file system, or init (the agent) exited. The
 * normal end of a KUnit-only boot, not a failure.
 */
const NORMAL_END = /No working init found|VFS: Unable to mount root fs|Attempted to kill init/;

/** Is this crash a kernel's normal end after its tests (see {@link NORMAL_END})? */
export function isNormalEnd(crash: CrashInfo): boolean {
  return crash.kind === 'panic' && NORMAL_END.test(crash.reason);
}

/**
 * The run's crash when no test carries it: a crash inside a test is reported
 * once, on that test (the parser also keeps it as the run's first crash).
 */
export function crashOutsideTests(result: RunResult): CrashInfo | undefined {
  const crash = result.crash;
  if (!crash) return undefined;
  const inside = (n: TestNode): boolean =>
    (n.crash !== undefined && n.crash.line === crash.line && n.crash.reason === crash.reason) || n.children.some(inside);
  return result.documents.some((d) => d.tests.some(inside)) ? undefined : crash;
}

/** A crash outside any test that is not the kernel's normal end: a kernel bug after (or between) the tests. */
export function lateCrash(result: RunResult): CrashInfo | undefined {
  const crash = crashOutsideTests(result);
  return crash && !isNormalEnd(crash) ? crash : undefined;
}

// ---- the verdict ------------------------------------------------------------------------

function sumOf(counts: Counts, effect: Effect): number {
  let n = 0;
  for (const r of STATUS_RULES) if (r.effect === effect && r.count) n += counts[r.count];
  return n;
}

/**
 * The verdict for a run's leaf counts, documents and first crash. Incomplete
 * wins over failed (an incomplete run can hide more failures). A test with
 * children that failed on its own counts with its status ({@link failedOnItsOwn};
 * `own` is the worst effect of those, found in `documents` unless given — the
 * parser, which may not keep the documents' tests, gives it). A crash that no
 * test carries fails the run unless it is the kernel's normal end; a crash on
 * a test always leaves that test `crashed`, so the run is incomplete anyway.
 */
export function verdictFor(
  counts: Counts,
  documents: readonly KtapDocument[],
  sawKtap: boolean,
  crash?: CrashInfo,
  own: Effect | undefined = ownFailureEffect(ownFailures(documents.flatMap((d) => d.tests))),
): Verdict {
  if (!sawKtap) return 'no-ktap';
  if (sumOf(counts, 'incomplete') > 0 || documents.some((d) => !d.complete) || own === 'incomplete') return 'incomplete';
  if (sumOf(counts, 'fail') > 0 || own === 'fail') return 'failed';
  if (crash !== undefined && !isNormalEnd(crash)) return 'failed';
  if (counts.total === 0) return 'no-tests';
  return 'passed';
}

/** What a verdict means: the exit code follows from this (runner/exit-codes.ts). */
export type VerdictClass = 'passed' | 'failed' | 'incomplete';

export function verdictClass(verdict: Verdict): VerdictClass {
  switch (verdict) {
    case 'passed':
      return 'passed';
    case 'failed':
      return 'failed';
    case 'incomplete':
    case 'no-tests':
    case 'no-ktap':
      return 'incomplete';
  }
}

/** One line saying why a run did not pass, for reports that need a text (undefined when it passed). */
export function verdictReason(result: RunResult): string | undefined {
  const c = result.counts;
  switch (result.verdict) {
    case 'passed':
      return undefined;
    case 'no-ktap':
      return 'no KTAP output found: did any KUnit tests run?';
    case 'no-tests':
      return 'no tests ran';
    case 'failed': {
      const n = sumOf(c, 'fail');
      if (n > 0) return `${n} test${n === 1 ? '' : 's'} failed`;
      const own = ownFailures(result.documents.flatMap((d) => d.tests)).length;
      if (own > 0) return `${own} suite${own === 1 ? '' : 's'} failed on its own (its cases passed)`;
      const crash = lateCrash(result);
      return crash ? `kernel crashed outside any test: ${crash.reason}` : 'failed';
    }
    case 'incomplete': {
      const parts: string[] = [];
      const own = ownFailures(result.documents.flatMap((d) => d.tests)).filter((n) => RULES[n.status].effect === 'incomplete').length;
      if (own) parts.push(`${own} suite${own === 1 ? '' : 's'} without a result of its own`);
      if (c.crashed) parts.push(`${c.crashed} crashed`);
      if (c.incomplete) parts.push(`${c.incomplete} without a result`);
      if (c.notRun) parts.push(`${c.notRun} not run`);
      const open = result.documents.filter((d) => !d.complete).length;
      if (open) parts.push(`${open} KTAP document${open === 1 ? '' : 's'} cut short`);
      return `the run did not complete: ${parts.length ? parts.join(', ') : 'see the diagnostics'}`;
    }
  }
}
