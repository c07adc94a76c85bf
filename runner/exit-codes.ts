/**
 * Exit codes, decided in one place (docs/exit-codes.md):
 *
 * | code | meaning |
 * | ---: | --- |
 * | 0 | every test passed or was skipped (or TODO, XFAIL) |
 * | 1 | a test failed, or the kernel crashed outside any test (not its normal end) |
 * | 2 | usage or input error (bad flag, missing file) |
 * | 3 | the run did not complete: kernel crashed, output cut short, no KTAP, no tests ran |
 * | 4 | infrastructure failure (QEMU missing or failing, kernel image unreadable) |
 * | 130 / 143 | interrupted by SIGINT / SIGTERM |
 */
import type { Verdict } from './ktap/model.js';
import { verdictClass } from './ktap/status.js';

export const ExitCode = {
  OK: 0,
  TEST_FAILED: 1,
  USAGE: 2,
  INCOMPLETE: 3,
  INFRA: 4,
  SIGINT: 130,
  SIGTERM: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for a parse or run verdict (what each verdict means: ktap/status.ts). */
export function exitCodeFor(verdict: Verdict): ExitCode {
  switch (verdictClass(verdict)) {
    case 'passed': return ExitCode.OK;
    case 'failed': return ExitCode.TEST_FAILED;
    case 'incomplete': return ExitCode.INCOMPLETE;
  }
}
