/**
 * Exit codes, decided in one place (docs/exit-codes.md):
 *
 * | code | meaning |
 * | ---: | --- |
 * | 0 | every test passed or was skipped |
 * | 1 | a test failed |
 * | 2 | usage or input error (bad flag, missing file) |
 * | 3 | the run did not complete: kernel crashed, output cut short, no KTAP, no tests ran |
 * | 4 | infrastructure failure (QEMU missing or failing, kernel image unreadable; an SSH target unreachable or lost) |
 * | 5 | SSH: the target's host key is not known (nothing was run) |
 * | 6 | SSH: the target's host key changed, or is revoked (nothing was run) |
 * | 7 | SSH: authentication failed (nothing was run) |
 * | 130 / 143 | interrupted by SIGINT / SIGTERM |
 */
import type { Verdict } from './ktap/model.js';

export const ExitCode = {
  OK: 0,
  TEST_FAILED: 1,
  USAGE: 2,
  INCOMPLETE: 3,
  INFRA: 4,
  HOST_KEY_UNKNOWN: 5,
  HOST_KEY_CHANGED: 6,
  AUTH_FAILED: 7,
  SIGINT: 130,
  SIGTERM: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for a parse or run verdict. */
export function exitCodeFor(verdict: Verdict): ExitCode {
  switch (verdict) {
    case 'passed': return ExitCode.OK;
    case 'failed': return ExitCode.TEST_FAILED;
    case 'incomplete':
    case 'no-tests':
    case 'no-ktap':
      return ExitCode.INCOMPLETE;
  }
}

/** The exit code of a run: its verdict's, but 4 when the target it ran on was lost (`run --target`). */
export function runExitCode(verdict: Verdict, targetLost: boolean): ExitCode {
  return targetLost ? ExitCode.INFRA : exitCodeFor(verdict);
}
