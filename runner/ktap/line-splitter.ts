/**
 * Stage 1 of 4: bytes → lines. Pure, no I/O.
 *
 * Accepted input: any bytes, in chunks of any size (a serial console, a file,
 * a socket). Produces whole lines:
 * - split on `\n`; any number of trailing `\r` dropped (`\r\n`, `\r\r\n`);
 * - decoded as UTF-8 with U+FFFD replacing invalid sequences (a multi-byte
 *   character split across chunks is decoded whole);
 * - NUL bytes removed;
 * - lines longer than `maxLineBytes` cut to at most that many bytes, on a
 *   character boundary, and marked; the rest of the line is discarded without
 *   being held in memory.
 *
 * Speed: a chunk is cut into blocks of about 64 KiB ending at a newline. A
 * pure-ASCII block (the usual kernel console) is decoded once and split as a
 * string; any other block is split and decoded line by line from its bytes.
 * Both give the same lines.
 */
import { isAscii } from 'node:buffer';

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

export interface LineSplitterOptions {
  /** Cap on one line's length in bytes (default {@link DEFAULT_MAX_LINE_BYTES}). */
  maxLineBytes?: number;
}

/** Size of the blocks a chunk is split into (each ends at a newline, except the chunk's tail). */
const BLOCK = 64 * 1024;

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
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const len = buf.length;
    let start = 0;
    if (this.pendingTotal !== 0) {
      // Finish the line begun in an earlier chunk.
      const nl = buf.indexOf(10);
      if (nl === -1) {
        this.hold(buf, 0, len);
        return;
      }
      this.hold(buf, 0, nl);
      const whole = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      const total = this.pendingTotal;
      this.pending = [];
      this.pendingBytes = 0;
      this.pendingTotal = 0;
      this.emit(whole, 0, whole.length, total);
      start = nl + 1;
    }
    while (start < len) {
      let end = start + BLOCK;
      if (end >= len) {
        end = len;
      } else {
        const nl = buf.subarray(start, end).lastIndexOf(10);
        if (nl !== -1) end = start + nl + 1;
        else {
          const next = buf.indexOf(10, end);
          end = next === -1 ? len : next + 1;
        }
      }
      // A block holding a line over the cap goes byte by byte: only the kept part is decoded.
      const block = buf.subarray(start, end);
      if (end - start <= BLOCK + this.max && isAscii(block)) this.asciiBlock(block);
      else this.byteBlock(buf, start, end);
      start = end;
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

  /** Lines of an ASCII block: decoded once, split as a string (byte and string offsets agree). */
  private asciiBlock(block: Buffer): void {
    const text = block.toString('latin1');
    const hasNul = block.indexOf(0) !== -1;
    const sink = this.sink;
    const n = text.length;
    for (let a = 0; a < n; ) {
      const nl = text.indexOf('\n', a);
      if (nl === -1) {
        this.hold(block, a, n);
        return;
      }
      if (nl - a > this.max) {
        this.emit(block, a, nl, nl - a);
      } else {
        let e = nl;
        while (e > a && text.charCodeAt(e - 1) === 13) e--;
        let line = text.slice(a, e);
        if (hasNul && line.indexOf('\0') !== -1) line = line.replace(/\0/g, '');
        sink(line, undefined);
      }
      a = nl + 1;
    }
  }

  /** Lines of any block, decoded one by one from their bytes. */
  private byteBlock(buf: Buffer, start: number, end: number): void {
    while (start < end) {
      const nl = buf.indexOf(10, start);
      if (nl === -1 || nl >= end) {
        this.hold(buf, start, end);
        return;
      }
      this.emit(buf, start, nl, nl - start);
      start = nl + 1;
    }
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

  /** One line from bytes `start..end` (without its `\n`); `total` is its whole length. */
  private emit(buf: Buffer, start: number, end: number, total: number): void {
    let e = end;
    let cut = false;
    if (e - start > this.max) {
      e = charBoundary(buf, start, start + this.max);
      cut = true;
    } else if (total > e - start) {
      e = charBoundary(buf, start, e);
      cut = true;
    } else {
      while (e > start && buf[e - 1] === 13) e--;
    }
    let text = buf.toString('utf8', start, e);
    let info: LineInfo | undefined;
    if (text.indexOf('\0') !== -1) text = text.replace(/\0/g, '');
    if (text.indexOf('\uFFFD') !== -1) info = { invalidUtf8: true };
    if (cut) {
      text = text.replace(/\r+$/, '');
      info = { ...info, truncatedFrom: total };
    }
    this.sink(text, info);
  }
}

/**
 * Where to cut bytes `start..end` so no UTF-8 character is split: `end`, or
 * the start of a multi-byte character that `end` would cut short.
 */
function charBoundary(buf: Buffer, start: number, end: number): number {
  for (let i = end - 1; i >= start && i >= end - 3; i--) {
    const b = buf[i]!;
    if (b < 0x80) return end;
    if (b >= 0xc0) {
      const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return i + size > end ? i : end;
    }
  }
  return end;
}
