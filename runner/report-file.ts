/**
 * A streamed report's file (reporters/types.ts `ReportSink`): the body goes
 * through a small buffer into the report's own temporary file, and `commit`
 * moves it up in place to make room for the insertions, writes them, and
 * renames the file over the report (atomically). Memory stays that of the
 * buffers, whatever the size of the run; the body's pages are written once and
 * moved in the page cache, not copied to a second file. A device or FIFO (read
 * as it is written) gets the body from a spool file instead.
 */
import { readSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Insertion, ReportSink } from '../reporters/types.js';
import { openAtomic, writesInPlace, type AtomicFile } from './write-file.js';

const CHUNK = 1 << 20;

/** A buffered writer to a descriptor; positions in bytes. */
class Out {
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  /** Bytes flushed. */
  flushed = 0;

  constructor(private readonly fd: number) {}

  get position(): number {
    return this.flushed + this.used;
  }

  write(text: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (this.used + text.length * 3 > CHUNK) {
      this.flush();
      if (text.length * 3 > CHUNK) {
        this.flushed += writeAll(this.fd, Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  /** Copy `[from, to)` of another file here. */
  copy(fd: number, from: number, to: number): void {
    while (from < to) {
      if (this.used === CHUNK) this.flush();
      const n = readSync(fd, this.buf, this.used, Math.min(CHUNK - this.used, to - from), from);
      if (n === 0) throw new Error(`spool file ended at byte ${from} of ${to}`);
      this.used += n;
      from += n;
    }
  }

  flush(): void {
    if (this.used === 0) return;
    this.flushed += writeAll(this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

function writeAll(fd: number, data: Buffer, position: number | null = null): number {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
  return done;
}

function readAll(fd: number, buf: Buffer, length: number, position: number): void {
  for (let done = 0; done < length; ) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`report body ended at byte ${position + done}`);
    done += n;
  }
}

/**
 * Put `insertions` (in order of `at`, byte positions) into the `length`-byte body of the file
 * `fd`, in place: each part of the body after an insertion moves up by the insertions before it,
 * the last part first and each part from its end (as `memmove` does), through `buf`.
 */
export function insertInPlace(fd: number, length: number, insertions: readonly Insertion[], buf: Buffer): void {
  const texts = insertions.map((i) => Buffer.from(i.text, 'utf8'));
  let shift = texts.reduce((n, t) => n + t.length, 0);
  for (let i = insertions.length - 1; i >= 0 && shift > 0; i--) {
    const from = insertions[i]!.at;
    let to = i + 1 < insertions.length ? insertions[i + 1]!.at : length;
    while (to > from) {
      const n = Math.min(buf.length, to - from);
      readAll(fd, buf, n, to - n);
      writeAll(fd, buf.subarray(0, n), to - n + shift);
      to -= n;
    }
    shift -= texts[i]!.length;
    if (texts[i]!.length > 0) writeAll(fd, texts[i]!, from + shift);
  }
}

/** The body of one report on its way to `path`. */
export class FileSink implements ReportSink {
  /** The report's temporary file, or for a device the spool its body waits in. */
  private readonly file: AtomicFile;
  private readonly out: Out;
  private readonly device: boolean;
  private open = true;

  constructor(private readonly path: string) {
    // A device is written in order: its body waits in a spool (removed with the other stale temporaries).
    this.device = writesInPlace(path);
    this.file = openAtomic(this.device ? join(tmpdir(), `kunit-bridge-${basename(path)}`) : path);
    this.out = new Out(this.file.fd);
  }

  /** Small writes wait here and are encoded together (one encoding call per ~64 KiB, not per write). */
  private pending: string[] = [];
  private pendingChars = 0;

  write(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= 1 << 16) this.drain();
  }

  private drain(): void {
    if (this.pending.length === 0) return;
    this.out.write(this.pending.length === 1 ? this.pending[0]! : this.pending.join(''));
    this.pending = [];
    this.pendingChars = 0;
  }

  mark(): number {
    this.drain();
    return this.out.position;
  }

  /** Write the report: the body with `insertions` (in order of `at`) put in. */
  commit(insertions: readonly Insertion[]): void {
    try {
      this.drain();
      this.out.flush();
      if (this.device) this.copyTo(insertions);
      else {
        insertInPlace(this.file.fd, this.out.flushed, insertions, Buffer.allocUnsafe(CHUNK));
        this.open = false;
        this.file.commit();
      }
    } finally {
      this.abort();
    }
  }

  /** A device: the spool copied to it, insertions put in. */
  private copyTo(insertions: readonly Insertion[]): void {
    const file = openAtomic(this.path);
    try {
      const out = new Out(file.fd);
      let from = 0;
      for (const { at, text } of insertions) {
        out.copy(this.file.fd, from, at);
        out.write(text);
        from = at;
      }
      out.copy(this.file.fd, from, this.out.flushed);
      out.flush();
    } catch (err) {
      file.abort();
      throw err;
    }
    file.commit();
  }

  /** Give up (or done with a device's spool): the file is removed. */
  abort(): void {
    if (!this.open) return;
    this.open = false;
    this.file.abort();
  }
}
