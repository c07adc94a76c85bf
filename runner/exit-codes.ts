/**
 * Exit codes, decided in one place (docs/exit-codes.md):
 *
 * | code | meaning |
 * | ---: | --- |
 * | 0 | every test passed or was skipped (or TODO, XFAIL) |
 * | 1 | a test failed, or the kernel crashed outside any test (not its normal end) |
 * | 2 | usage or input error (bad flag, missing file) |
 * | 3 | the run did not complete: kernel crashed, output cut short, no KTAP, no tests ran |
 * | 4 | infrastructure failure (QEMU missing or failing, kernel image unreadable; an SSH target unreachable or lost) |
 * | 5 | `watch`: the feed broke the live protocol (not JSON, a bad field, unknown version, too big) |
 * | 6 | SSH: the target's host key is not known (nothing was run) |
 * | 7 | SSH: the target's host key changed, or is revoked (nothing was run) |
 * | 8 | SSH: authentication failed (nothing was run) |
 * | 9 | `build`, `run --build`: the kernel did not build (a compiler or linker error; nothing was run) |
 * | 129 / 130 / 143 | interrupted by SIGHUP / SIGINT / SIGTERM |
 */
import type { Verdict } from './ktap/model.js';
import { verdictClass } from './ktap/status.js';

export const ExitCode = {
  OK: 0,
  TEST_FAILED: 1,
  USAGE: 2,
  INCOMPLETE: 3,
  INFRA: 4,
  PROTOCOL: 5,
  HOST_KEY_UNKNOWN: 6,
  HOST_KEY_CHANGED: 7,
  AUTH_FAILED: 8,
  BUILD_FAILED: 9,
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for a parse or run verdict (what each verdict means: ktap/status.ts). */
export function exitCodeFor(verdict: Verdict): ExitCode {
  switch (verdictClass(verdict)) {
    case 'passed':
      return ExitCode.OK;
    case 'failed':
      return ExitCode.TEST_FAILED;
    case 'incomplete':
      return ExitCode.INCOMPLETE;
  }
}

/** What the gate (`--known`, `--baseline`) found, as far as the verdict is concerned. */
export interface GateFindings {
  /** Tests that fail the gate: failing and not known (with a baseline: regressions and new failures only). */
  failing: number;
  /** Crashed, cut-off or not-run tests not covered by a known entry, or an incomplete run with no such test to blame. */
  incomplete: boolean;
  /** Baseline tests absent now that the run was not told to leave out. */
  missing: number;
  /** Stale known entries, counted only with `--strict-known`. */
  strictStale: number;
}

/**
 * The verdict once the gate has looked (and through {@link exitCodeFor}, the
 * exit code): incomplete (3) beats failed (1) beats passed (0); no KTAP and
 * no tests stay what they are. Known failures, still-failing tests and fixed
 * ones never fail it.
 */
export function gatedVerdict(testVerdict: Verdict, g: GateFindings): Verdict {
  if (testVerdict === 'no-ktap' || testVerdict === 'no-tests') return testVerdict;
  if (g.incomplete || g.missing > 0) return 'incomplete';
  if (g.failing > 0 || g.strictStale > 0) return 'failed';
  return 'passed';
}

/** The exit code of a run stopped by a signal (128 + its number): SIGHUP 129, SIGINT 130, SIGTERM 143. */
export function exitCodeForSignal(signal: unknown): ExitCode {
  return signal === 'SIGTERM' ? ExitCode.SIGTERM : signal === 'SIGHUP' ? ExitCode.SIGHUP : ExitCode.SIGINT;
}

/** The exit code of a run: its verdict's, but 4 when the target it ran on was lost (`run --target`). */
export function runExitCode(verdict: Verdict, targetLost: boolean): ExitCode {
  return targetLost ? ExitCode.INFRA : exitCodeFor(verdict);
}
