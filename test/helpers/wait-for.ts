/**
 * Waiting in tests for a condition, not for a time: `waitFor` polls `cond`
 * until it holds and throws, naming what it waited for, if it does not
 * within `timeoutMs`. It keeps working under `vi.useFakeTimers()` (it uses
 * the real timer and clock taken at load).
 */
const realSetTimeout = globalThis.setTimeout;
const realNow = performance.now.bind(performance);

export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Poll every this many ms (default 10). */
  everyMs?: number;
  /** What is waited for, for the error. */
  what?: string;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, opts: WaitForOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const deadline = realNow() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (realNow() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? String(cond)}`);
    await new Promise((r) => realSetTimeout(r, opts.everyMs ?? 10));
  }
}
