/**
 * What the gate decided (`--known`, `--baseline`): the `gate` section of the
 * native JSON (docs/gating.md) and what every reporter reads: types, and the
 * one label every report gives a known failure.
 */
import type { TestStatus, Verdict } from '../ktap/model.js';
import type { Comparison } from './compare.js';
import type { KnownStatus } from './known.js';

/** On a test node: this failure is a known one (it does not fail the run). */
// The gate's marks on the core's model: declared here, so that runner/ktap/ imports nothing of the gate.
declare module '../ktap/model.js' {
  interface TestNode {
    /** Set by the gate (`--known`): a known failure, which does not fail the run. */
    known?: KnownMark;
  }
  interface RunResult {
    /** Set by the gate (`--known`, `--baseline`); `verdict` is then the gate's. */
    gate?: GateOutcome;
  }
}

export interface KnownMark {
  /** The entry's glob. */
  test: string;
  /** The entry's `FILE:LINE`. */
  entry: string;
  status: KnownStatus;
  reason?: string;
  bug?: string;
  until?: string;
}

/** A test the gate concerns: its path and status. */
export interface GateTest {
  path: string;
  status: TestStatus;
}

/** A known test, with its entry. */
export interface KnownHit extends GateTest {
  known: KnownMark;
}

/** A known entry that matched no failing test. */
export interface StaleEntry {
  entry: string;
  test: string;
  reason?: string;
  bug?: string;
  /** Why: `no test matches` or what the matching tests did (`passed: a.b`). */
  why: string;
}

/** An entry past its `until` date: it no longer applies. */
export interface ExpiredEntry {
  entry: string;
  test: string;
  until: string;
  reason?: string;
  bug?: string;
  /** The failing tests it would have covered (they fail as usual). */
  tests: string[];
}

export interface GateOutcome {
  /** The verdict of the tests alone, before the gate (the run's `verdict` is the gate's). */
  testVerdict: Verdict;
  /** The gate's verdict: the run's `verdict`, and through it the exit code. */
  verdict: Verdict;
  /** The known file, when given. */
  knownFile?: string;
  /** The baseline results.json, when given. */
  baselineFile?: string;
  strictKnown: boolean;
  /** The architecture entries were matched against, when known. */
  arch?: string;
  /** Failing tests covered by a known entry. */
  known: KnownHit[];
  stale: StaleEntry[];
  expired: ExpiredEntry[];
  /** Tests that fail the gate (exit 1): failing and not known; with a baseline, regressions and new failures only. */
  failing: GateTest[];
  /** Crashed, cut-off or not-run tests not covered by a known entry (exit 3). */
  incomplete: GateTest[];
  /** With a baseline. Known tests stay in their bucket, marked known on the test. */
  comparison?: Comparison;
  /** One-line warnings (expired entries, arch-limited entries without a known arch). */
  warnings: string[];
}

/** `reason bug` of a known mark (the glob when it has no reason), as every report shows it. */
export function knownLabel(k: KnownMark): string {
  return [k.reason ?? k.test, k.bug].filter((x) => x !== undefined).join(' ');
}
