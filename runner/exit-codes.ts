/**
 * Exit codes, decided in one place (docs/exit-codes.md):
 *
 * | code | meaning |
 * | ---: | --- |
 * | 0 | every test passed or was skipped |
 * | 1 | a test failed |
 * | 2 | usage or input error (bad flag, missing file) |
 * | 3 | the run did not complete: kernel crashed, output cut short, no KTAP, no tests ran |
 * | 4 | infrastructure failure (QEMU missing or failing, kernel image unreadable) |
 * | 129 / 130 / 143 | interrupted by SIGHUP / SIGINT / SIGTERM |
 */
import type { Verdict } from './ktap/model.js';

export const ExitCode = {
  OK: 0,
  TEST_FAILED: 1,
  USAGE: 2,
  INCOMPLETE: 3,
  INFRA: 4,
  SIGHUP: 129,
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

/** The exit code of a run stopped by a signal (128 + its number): SIGHUP 129, SIGINT 130, SIGTERM 143. */
export function exitCodeForSignal(signal: unknown): ExitCode {
  return signal === 'SIGTERM' ? ExitCode.SIGTERM : signal === 'SIGHUP' ? ExitCode.SIGHUP : ExitCode.SIGINT;
}
