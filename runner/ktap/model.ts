/**
 * The KTAP result model: what the parser produces and every reporter reads.
 *
 * A parse yields a {@link RunResult}: one or more KTAP documents (one per
 * `KTAP version` header at the top level — a boot, a module load, a debugfs
 * re-run), each holding a tree of {@link TestNode}s (suites, test cases,
 * parameterised cases). Statuses are pessimistic: a test is `crashed` or
 * `incomplete` until its own result line arrives.
 */
import { isShownFailing, RULES } from './status.js';

/** Every status a test can end in. */
export type TestStatus =
  /** `ok` without directive (or `# XFAIL`: failed as expected, see `directive`). */
  | 'pass'
  /** `not ok` without directive. */
  | 'fail'
  /** `# SKIP` directive. */
  | 'skip'
  /** `# TODO` directive: known not to work yet; never fails a run. */
  | 'todo'
  /** `# XFAIL`: an expected failure (counted as a pass). */
  | 'xfail'
  /** `# TIMEOUT` directive, or killed by the runner's stall timer. */
  | 'timeout'
  /** `# ERROR` directive: the test could not run properly. */
  | 'error'
  /** The kernel crashed (panic, fatal Oops, BUG) while this test ran; no result line came. */
  | 'crashed'
  /** The output stopped before this test's result line, with no crash seen (cut short, hung). */
  | 'incomplete'
  /** Never started: the run ended before it (named when a plan or list made it known). */
  | 'not-run'
  /** A suite or document whose plan is `1..0`, or that held no tests at all. */
  | 'no-tests';

// What each status means, its label, colour and order: one table, ./status.ts.
export { FAILING_STATUSES, INCOMPLETE_STATUSES } from './status.js';

/** A KTAP directive found after `#` on a result line. */
export type Directive = 'SKIP' | 'TODO' | 'XFAIL' | 'TIMEOUT' | 'ERROR';

/** Source location of a test (Rust doctests print `# <name>.location: file:line`). */
export interface Location {
  file: string;
  line: number;
}

/** What the parser learned about a kernel crash. */
export interface CrashInfo {
  /** The first line that identified it, e.g. `Kernel panic - not syncing: Fatal exception`. */
  reason: string;
  /** Kind of crash signature. */
  kind: 'panic' | 'oops' | 'bug' | 'kasan' | 'gpf' | 'rust-panic' | 'other';
  /** The trace lines, as printed (printk prefix removed), capped. */
  trace: string[];
  /** 1-based input line where it started. */
  line: number;
}

/** A parser anomaly: bad input is data, never an exception. */
export interface Diagnostic {
  /** Stable code, listed in docs/ktap.md. */
  code: DiagnosticCode;
  /** Human message. */
  message: string;
  /** 1-based input line number (0 when not tied to a line). */
  line: number;
  /** Slash-joined path of the test concerned, when known. */
  path?: string;
  severity: 'info' | 'warning' | 'error';
}

export type DiagnosticCode =
  | 'no-ktap'
  | 'no-plan'
  | 'plan-mismatch'
  | 'plan-unreported'
  | 'duplicate-plan'
  | 'number-mismatch'
  | 'name-mismatch'
  | 'unexpected-line'
  | 'missing-result'
  | 'line-truncated'
  | 'invalid-utf8'
  | 'crash'
  | 'oops-recovered'
  | 'incomplete-output'
  | 'totals-mismatch'
  | 'bad-version'
  | 'too-deep';

/** One test: a suite, a test case, or a parameterised case. */
export interface TestNode {
  name: string;
  /** The number on its result line (1-based within its parent), when it had one. */
  number?: number;
  status: TestStatus;
  /** The directive on its result line, if any. */
  directive?: Directive;
  /** Text after the directive (skip reason, …) or after the crash/timeout marker. */
  reason?: string;
  /** Duration in milliseconds, from printk timestamps or caller-supplied arrival times. */
  durationMs?: number;
  /** Lines that belong to this test and not to a child: diagnostics (`# …` without the `#`) and other output. */
  log: string[];
  /** Subtests (cases of a suite, parameters of a case). */
  children: TestNode[];
  /** The `1..N` plan of its subtests, if one was printed. */
  plan?: number;
  /** KTAP attributes: `# module: x`, `# speed: slow`, `# <name>.speed: slow`, … */
  attributes: Record<string, string>;
  location?: Location;
  /** Set when a crash ended (or ran through) this test. */
  crash?: CrashInfo;
  /** `# <suite>: pass:N fail:N skip:N total:N` as printed by the kernel. */
  stats?: { pass: number; fail: number; skip: number; total: number };
  /** 1-based line of the result line (or of the header, when no result came). */
  line: number;
  /** Printk time (seconds) at which it started and ended, when known. */
  startTime?: number;
  endTime?: number;
  /**
   * With `run --repeat N`: the outcome of every attempt, the first (the boot or
   * the module load) included. `status` is then the worst of them.
   */
  attempts?: Attempt[];
  /** Passed in some attempts and failed in others. */
  flaky?: boolean;
  // The gate (runner/gate/outcome.ts) adds `known`: the core knows nothing of it.
}

/** One attempt of a repeated test or suite. */
export interface Attempt {
  /** 1-based. */
  attempt: number;
  status: TestStatus;
  reason?: string;
  durationMs?: number;
  /** False when the kernel did not really run it again (a test skipped before is reported skipped, empty reason). */
  ran?: boolean;
}

/** Where a document came from, when the runner knows (the agent's steps). */
export interface DocumentOrigin {
  /** `boot`: the built-in suites at boot; `module`: loading a module; `rerun`: a suite run again through debugfs (`run --target … --filter`). */
  kind: 'boot' | 'module' | 'rerun';
  /** The module's file, for `module`. */
  module?: string;
  /** The lane (QEMU instance), 0-based, when there were several. */
  lane?: number;
  /** `merge` of runs on several architectures or kernels: the index of its {@link RunGroup}. */
  group?: number;
}

/** `run --shard K/N`: which part of which run this is (runner/shard-plan.ts). */
export interface ShardInfo {
  /** K, 1-based. */
  index: number;
  /** N. */
  total: number;
  /** sha256 of the kernel image. */
  kernelHash: string;
  /** The suites this shard was meant to run, in boot order. */
  expected: string[];
  /** Every suite of the whole run, in boot order, and the shard (1-based) of each. */
  suites: string[];
  parts: number[];
  /** Module files (base names) of each shard; index 0 is shard 1. */
  modules: string[][];
}

/** `merge`: one architecture × kernel of a merged report. */
export interface RunGroup {
  /** `arch kernel`, e.g. `x86_64 6.12.0`. */
  name: string;
  arch?: string;
  kernelVersion?: string;
  kernelHash?: string;
  /** The results.json files merged into it. */
  inputs: string[];
  /** N, when the group was put together from shards. */
  shards?: number;
  /** The first input's run metadata. */
  metadata: Record<string, string>;
}

/** One top-level KTAP document (`KTAP version 1` … at the outermost indent). */
export interface KtapDocument {
  /** 0-based position in the log. */
  index: number;
  /** `KTAP version 1` → `{format:'KTAP', version:1}`; absent for headerless output. */
  format?: 'KTAP' | 'TAP';
  version?: number;
  plan?: number;
  tests: TestNode[];
  /** Diagnostic lines at document level (`# Totals: …`, …). */
  log: string[];
  totals?: { pass: number; fail: number; skip: number; total: number };
  /** True when the plan was satisfied (or, without a plan, the document ended cleanly). */
  complete: boolean;
  startLine: number;
  endLine: number;
  attributes: Record<string, string>;
  origin?: DocumentOrigin;
}

/** Counts of leaf results (test cases; a parameterised test counts its parameters). */
export interface Counts {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  xfail: number;
  timeout: number;
  errors: number;
  crashed: number;
  incomplete: number;
  notRun: number;
}

/** The overall verdict; decides the exit code (see runner/exit-codes.ts). */
export type Verdict = 'passed' | 'failed' | 'incomplete' | 'no-tests' | 'no-ktap';

/** The finished parse of one console log (or one run's merged streams). */
export interface RunResult {
  documents: KtapDocument[];
  diagnostics: Diagnostic[];
  /** A crash seen outside any test (e.g. a panic after the last document), if any. */
  crash?: CrashInfo;
  counts: Counts;
  verdict: Verdict;
  /** Number of input lines read. */
  lines: number;
  metadata: Record<string, string>;
  /** `run --shard K/N`. */
  shard?: ShardInfo;
  /** `merge` of several architectures or kernels: documents name theirs in `origin.group`. */
  groups?: RunGroup[];
  // The gate (runner/gate/outcome.ts) adds `gate`, and `verdict` is then the gate's.
}

/** Events the parser emits while it reads, in input order. */
export type KtapEvent =
  /** `indent` > 0: an indented document, which may turn out to be a suite (its tests are then in `document-end`'s document even when no tree is kept). */
  | { type: 'document-start'; document: number; line: number; format?: 'KTAP' | 'TAP'; version?: number; indent?: number }
  | { type: 'plan'; path: string[]; count: number; line: number }
  /** A test whose children follow (a suite, a parameterised case) has started. */
  | { type: 'test-start'; path: string[]; line: number; time?: number }
  /** A test finished; `test` is complete, children included. */
  | { type: 'test-end'; path: string[]; test: TestNode; document: number }
  /** A `# …` line or other output that belongs to the test at `path` (empty path: document level). */
  | { type: 'log'; path: string[]; text: string; line: number; diagnostic: boolean }
  | { type: 'crash'; path: string[]; crash: CrashInfo }
  | { type: 'diagnostic'; diagnostic: Diagnostic }
  | { type: 'document-end'; document: KtapDocument };

/** Empty counts. */
export function emptyCounts(): Counts {
  return {
    total: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    todo: 0,
    xfail: 0,
    timeout: 0,
    errors: 0,
    crashed: 0,
    incomplete: 0,
    notRun: 0,
  };
}

/** Add one leaf status to a counts object. */
export function countStatus(counts: Counts, status: TestStatus): void {
  const field = RULES[status].count;
  if (field === undefined) return;
  counts.total++;
  counts[field]++;
}

/** Count the leaves under a node (the node itself when it has no children). */
export function countLeaves(node: TestNode, counts: Counts = emptyCounts()): Counts {
  if (node.children.length === 0) {
    countStatus(counts, node.status);
  } else {
    for (const child of node.children) countLeaves(child, counts);
  }
  return counts;
}

/** Leaf tests that both passed and failed across attempts (`run --repeat`), as `suite.test (2/3 failed)`. */
export function flakyTests(result: RunResult): string[] {
  const out: string[] = [];
  const walk = (n: TestNode, path: string[]): void => {
    if (n.children.length === 0) {
      if (!n.flaky) return;
      const counted = (n.attempts ?? []).filter((a) => a.ran !== false);
      const bad = counted.filter((a) => isShownFailing(a.status)).length;
      out.push(`${[...path, n.name].join('.')} (${bad}/${counted.length} failed)`);
      return;
    }
    for (const c of n.children) walk(c, [...path, n.name]);
  };
  for (const d of result.documents) for (const t of d.tests) walk(t, []);
  return out;
}

/** `attempts: 1 pass, 2 fail, 3 pass (flaky)` for a test run more than once (`run --repeat`), else undefined. */
export function attemptsLine(node: TestNode): string | undefined {
  if (!node.attempts || node.attempts.length < 2) return undefined;
  const list = node.attempts.map((a) => `${a.attempt} ${a.ran === false ? 'not re-run' : a.status}`).join(', ');
  return `attempts: ${list}${node.flaky ? ' (flaky)' : ''}`;
}
