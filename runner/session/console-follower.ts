/**
 * The raw console log, followed by descriptor. The file is created
 * exclusively (never through a planted link) and handed to QEMU as its fd 3;
 * QEMU writes the serial output there itself and this reads it back from the
 * same descriptor (on every change, and on a timer in case a change is
 * missed), so what it sees is what QEMU wrote, whatever is at the name later.
 */
import { closeSync, type FSWatcher, fstatSync, readSync, watch, writeSync } from 'node:fs';
import { BridgeError, describeFsError } from '../errors.js';
import { openFresh } from '../write-file.js';

const POLL_MS = 50;

export class ConsoleFollower {
  readonly fd: number;
  private readonly path: string;
  private readonly buf = Buffer.alloc(1 << 16);
  private offset = 0;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private onChunk: ((chunk: Buffer) => void) | undefined;
  private closed = false;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Create the log at `path` (E_LOG_WRITE when it cannot be). */
  static create(path: string): ConsoleFollower {
    try {
      return new ConsoleFollower(path, openFresh(path));
    } catch (err) {
      throw new BridgeError('E_LOG_WRITE', `cannot create the raw console log ${path}: ${describeFsError(err)}`, { cause: err });
    }
  }

  /** Feed every new byte to `onChunk`, in order, as the file grows. */
  follow(onChunk: (chunk: Buffer) => void): void {
    this.onChunk = onChunk;
    try {
      this.watcher = watch(this.path, () => this.drain());
    } catch {
      // no inotify: the timer alone follows the file
    }
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

  /** No more following (the watcher and the timer are gone); the descriptor stays open. */
  stopFollowing(): void {
    clearInterval(this.poll);
    this.watcher?.close();
    this.watcher = undefined;
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
