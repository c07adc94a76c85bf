/**
 * A run the runner stopped (the stall timer, `--timeout`): the test that was
 * running ran until it was stopped, not until its last line. Pure.
 */
import type { RunResult, TestNode } from './ktap/model.js';

/**
 * Add `waitedMs` (from the last line to the stop) to the duration of the test
 * the parser marked timed out with `message`, and of the suites it was in.
 */
export function ranUntilStopped(result: RunResult, message: string, waitedMs: number): void {
  if (!(waitedMs > 0)) return;
  const extend = (n: TestNode): void => {
    if (n.durationMs !== undefined) n.durationMs = Math.round((n.durationMs + waitedMs) * 1e3) / 1e3;
  };
  /** Extend the path down to the stopped test; true when it is under `n`. */
  const walk = (n: TestNode): boolean => {
    const here = n.children.length === 0 && n.status === 'timeout' && n.reason === message;
    const below = !here && n.children.some(walk);
    if (here || below) extend(n);
    return here || below;
  };
  const last = result.documents[result.documents.length - 1];
  for (const t of last?.tests ?? []) walk(t);
}
