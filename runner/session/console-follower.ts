/**
 * The raw console log, followed by descriptor. The file is created
 * exclusively (never through a planted link) and handed to QEMU as its fd 3;
 * QEMU writes the serial output there itself and this reads it back from the
 * same descriptor on a short timer, so what it sees is what QEMU wrote,
 * whatever is at the name later.
 *
 * A timer, not inotify: QEMU writes the console one byte per write(2), from
 * the guest's CPU thread. A watched file makes every one of those writes
 * queue an event (46,000 one-byte writes: 0.16 s watched, 0.09 s not) and
 * wake the runner (x86_64-rust-kunit: 36,000 reads back). Read every 20 ms,
 * a boot's console comes in a few dozen reads.
 */
import { closeSync, fstatSync, readSync, writeSync } from 'node:fs';
import { BridgeError, describeFsError } from '../errors.js';
import { openFresh } from '../write-file.js';

/** How often the file is read while QEMU runs (ms): the live view's latency at most. */
const POLL_MS = 20;

export class ConsoleFollower {
  readonly fd: number;
  private readonly buf = Buffer.alloc(1 << 16);
  private offset = 0;
  private poll: NodeJS.Timeout | undefined;
  private onChunk: ((chunk: Buffer) => void) | undefined;
  private closed = false;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Create the log at `path` (E_LOG_WRITE when it cannot be). */
  static create(path: string): ConsoleFollower {
    try {
      return new ConsoleFollower(openFresh(path));
    } catch (err) {
      throw new BridgeError('E_LOG_WRITE', `cannot create the raw console log ${path}: ${describeFsError(err)}`, { cause: err });
    }
  }

  /** Feed every new byte to `onChunk`, in order, as the file grows. */
  follow(onChunk: (chunk: Buffer) => void): void {
    this.onChunk = onChunk;
    this.poll = setInterval(() => this.drain(), POLL_MS);
  }

  /** Read what is new now. */
  drain(): void {
    if (!this.onChunk || this.closed) return;
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
      if (n <= 0) return;
      this.offset += n;
      this.onChunk(Buffer.from(this.buf.subarray(0, n)));
    }
  }

  /** No more following (the timer is gone); the descriptor stays open. */
  stopFollowing(): void {
    clearInterval(this.poll);
  }

  /** The whole file (positional reads: the descriptor's offset is not used). */
  readAll(): Buffer {
    const all = Buffer.alloc(fstatSync(this.fd).size);
    let got = 0;
    while (got < all.length) {
      const n = readSync(this.fd, all, got, all.length - got, got);
      if (n <= 0) break;
      got += n;
    }
    return all.subarray(0, got);
  }

  /** Write `bytes` after the file's end. */
  append(bytes: Buffer): void {
    writeSync(this.fd, bytes, 0, undefined, fstatSync(this.fd).size);
  }

  /** Stop following and close the descriptor (once; later calls do nothing). */
  close(): void {
    this.stopFollowing();
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
