/**
 * The ending → the run's result: a timer's stop marks the running test timed
 * out (and it ran until the stop), an interrupt leaves the run incomplete,
 * anything else is what the parser saw.
 */
import type { KtapStream } from '../ktap/index.js';
import type { RunResult } from '../ktap/model.js';
import { ranUntilStopped } from '../stopped.js';
import type { SessionEnding } from './ending.js';

export interface FinishLimits {
  stallTimeoutMs?: number;
  timeoutMs?: number;
  /** From the last parser event to the stop. */
  waitedMs: number;
}

const secs = (ms: number | undefined): string => `${Math.round((ms ?? 0) / 100) / 10} s`;

export function finishStream(stream: KtapStream, ending: SessionEnding, limits: FinishLimits): RunResult {
  const timedOut = (message: string): RunResult => {
    const r = stream.finish({ status: 'timeout', message });
    ranUntilStopped(r, message, limits.waitedMs);
    return r;
  };
  switch (ending) {
    case 'stall':
      return timedOut(`no KTAP progress for ${secs(limits.stallTimeoutMs)} (--stall-timeout): the kernel hung`);
    case 'timeout':
      return timedOut(`the run took longer than ${secs(limits.timeoutMs)} (--timeout)`);
    case 'interrupted':
      return stream.finish({ status: 'incomplete', message: 'interrupted' });
    default:
      return stream.finish();
  }
}
