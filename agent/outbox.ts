/**
 * The agent's numbered lines: queued as read, sent in batches within a
 * window, dropped when acknowledged, resent from the runner's `have + 1`
 * after a reconnect. Pure (the caller sends what `take()` returns).
 */

export interface OutboxOptions {
  /** Lines per frame (default 256). */
  batch?: number;
  /** Lines sent but not acked, at most (default 4000). */
  window?: number;
  /** Characters of the lines of one frame, at most (a frame has at least one line). Default: no limit. */
  maxChars?: number;
}

export class Outbox {
  /** Lines not yet acked; pending[0] is number acked + 1. */
  private pending: string[] = [];
  /** Every line <= acked is acknowledged. */
  private acked = 0;
  /** Highest number sent on the current connection. */
  private sent = 0;
  private readonly batch: number;
  private readonly window: number;
  private readonly maxChars: number;

  constructor(options: OutboxOptions = {}) {
    this.batch = options.batch ?? 256;
    this.window = options.window ?? 4000;
    this.maxChars = options.maxChars ?? Infinity;
  }

  /** Number of lines queued so far (the last line's number). */
  get last(): number {
    return this.acked + this.pending.length;
  }

  get ackedUpTo(): number {
    return this.acked;
  }

  /** Every line queued has been acknowledged. */
  get drained(): boolean {
    return this.pending.length === 0;
  }

  /** Every line queued has been sent on this connection (acked or not). */
  get allSent(): boolean {
    return this.sent === this.last;
  }

  /** Lines sent on this connection and not acked yet. */
  get inFlight(): number {
    return this.sent - this.acked;
  }

  push(lines: readonly string[]): void {
    for (const l of lines) this.pending.push(l);
  }

  /** A cumulative ack; numbers at or below what was acked before are ignored. */
  ack(n: number): void {
    if (n <= this.acked) return;
    const upTo = Math.min(n, this.last);
    this.pending.splice(0, upTo - this.acked);
    this.acked = upTo;
    if (this.sent < this.acked) this.sent = this.acked;
  }

  /** A new connection whose runner holds 1..have: send from have + 1 on. */
  resume(have: number): void {
    this.ack(have);
    this.sent = this.acked;
  }

  /** The next frames to send on this connection (empty when all is sent or the window is full). */
  take(): { from: number; lines: string[] }[] {
    const frames: { from: number; lines: string[] }[] = [];
    while (this.sent < this.last && this.sent - this.acked < this.window) {
      const from = this.sent + 1;
      const start = from - this.acked - 1;
      const lines = this.pending.slice(start, start + Math.min(this.batch, this.window - (this.sent - this.acked)));
      for (let chars = 0, i = 0; i < lines.length; i++) {
        chars += lines[i]!.length;
        if (chars > this.maxChars && i > 0) {
          lines.length = i;
          break;
        }
      }
      frames.push({ from, lines });
      this.sent += lines.length;
    }
    return frames;
  }
}
