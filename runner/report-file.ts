/**
 * A streamed report's file (reporters/types.ts `ReportSink`): the body goes to
 * a spool file beside the report through a small buffer, and `commit` writes
 * the report, insertions put in, atomically. Memory stays that of the buffers,
 * whatever the size of the run.
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

function writeAll(fd: number, data: Buffer): number {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
  return done;
}

/** The body of one report on its way to `path`. */
export class FileSink implements ReportSink {
  private readonly spool: AtomicFile;
  private readonly out: Out;
  private open = true;

  constructor(private readonly path: string) {
    // Beside the report (same disk, removed with the other stale temporaries), unless the report is a device.
    this.spool = openAtomic(writesInPlace(path) ? join(tmpdir(), `kunit-bridge-${basename(path)}`) : path);
    this.out = new Out(this.spool.fd);
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

  /** Write the report: the body with `insertions` (in order of `at`) put in; the spool is removed. */
  commit(insertions: readonly Insertion[]): void {
    try {
      this.drain();
      this.out.flush();
      const file = openAtomic(this.path);
      try {
        const out = new Out(file.fd);
        let from = 0;
        for (const { at, text } of insertions) {
          out.copy(this.spool.fd, from, at);
          out.write(text);
          from = at;
        }
        out.copy(this.spool.fd, from, this.out.flushed);
        out.flush();
      } catch (err) {
        file.abort();
        throw err;
      }
      file.commit();
    } finally {
      this.abort();
    }
  }

  /** Give up (or done): the spool is removed. */
  abort(): void {
    if (!this.open) return;
    this.open = false;
    this.spool.abort();
  }
}
