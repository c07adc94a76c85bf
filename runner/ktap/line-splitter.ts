/**
 * Stage 1 of 3: bytes → lines. Pure, no I/O.
 *
 * Accepted input: any bytes, in chunks of any size (a serial console, a file,
 * a socket). Produces whole lines:
 * - split on `\n`; any number of trailing `\r` dropped (`\r\n`, `\r\r\n`);
 * - decoded as UTF-8 with U+FFFD replacing invalid sequences (a multi-byte
 *   character split across chunks is decoded whole);
 * - NUL bytes removed;
 * - lines longer than `maxLineBytes` cut to that length and marked, the rest
 *   of the line discarded without being held in memory.
 */

/** Default cap on one line: 64 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** What is known about one line beyond its text. */
export interface LineInfo {
  /** Original length in bytes when the line was cut to the cap. */
  truncatedFrom?: number;
  /** The line held invalid UTF-8 (now U+FFFD). */
  invalidUtf8?: boolean;
}

export type LineSink = (text: string, info: LineInfo | undefined) => void;

const NO_INFO: LineInfo | undefined = undefined;

export interface LineSplitterOptions {
  /** Cap on one line's length in bytes (default {@link DEFAULT_MAX_LINE_BYTES}). */
  maxLineBytes?: number;
}

export class LineSplitter {
  private readonly max: number;
  private readonly sink: LineSink;
  /** Bytes of the current, unfinished line (at most `max`). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total length of the current line, including discarded bytes. */
  private pendingTotal = 0;

  constructor(sink: LineSink, options: LineSplitterOptions = {}) {
    this.sink = sink;
    this.max = Math.max(16, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  }

  /** Feed a chunk (bytes, or text which is encoded as UTF-8 first). */
  push(chunk: Uint8Array | string): void {
    const buf = typeof chunk === 'string'
      ? Buffer.from(chunk, 'utf8')
      : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    const len = buf.length;
    while (start < len) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) {
        this.hold(buf, start, len);
        return;
      }
      if (this.pendingTotal === 0) {
        this.emit(buf, start, nl, nl - start);
      } else {
        this.hold(buf, start, nl);
        const whole = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
        const total = this.pendingTotal;
        this.pending = [];
        this.pendingBytes = 0;
        this.pendingTotal = 0;
        this.emit(whole, 0, whole.length, total);
      }
      start = nl + 1;
    }
  }

  /** Flush the last line if the input did not end with a newline. */
  end(): void {
    if (this.pendingTotal === 0) return;
    const whole = Buffer.concat(this.pending, this.pendingBytes);
    const total = this.pendingTotal;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTotal = 0;
    this.emit(whole, 0, whole.length, total);
  }

  private hold(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    this.pendingTotal += n;
    const room = this.max - this.pendingBytes;
    if (room <= 0 || n === 0) return;
    const take = Math.min(room, n);
    // Copy: the caller may reuse its chunk buffer.
    this.pending.push(Buffer.from(buf.subarray(start, start + take)));
    this.pendingBytes += take;
  }

  private emit(buf: Buffer, start: number, end: number, total: number): void {
    let e = end;
    let truncatedFrom: number | undefined;
    if (e - start > this.max) {
      e = start + this.max;
      truncatedFrom = total;
    } else if (total > e - start) {
      truncatedFrom = total;
    } else {
      while (e > start && buf[e - 1] === 13) e--;
    }
    let text = buf.toString('utf8', start, e);
    let info = NO_INFO;
    if (text.indexOf('\0') !== -1) text = text.replace(/\0/g, '');
    if (text.indexOf('\uFFFD') !== -1) info = { invalidUtf8: true };
    if (truncatedFrom !== undefined) {
      // A cut may split a multi-byte character: drop a trailing replacement char.
      text = text.replace(/\r+$/, '');
      info = { ...info, truncatedFrom };
    }
    this.sink(text, info);
  }
}
