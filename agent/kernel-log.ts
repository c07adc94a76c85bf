/**
 * The agent's reader of the kernel log: every `/dev/kmsg` record there is,
 * from the oldest, rendered as console lines and queued in the outbox; lost
 * records become a line of their own. Markers written into the log are
 * waited for until they are read back. The device comes in as a
 * {@link KmsgDevice}, so a fake can stand in for `/dev/kmsg` in tests.
 */
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { consoleLines, parseKmsgRecord } from './kmsg.js';
import type { Outbox } from './outbox.js';
import { AGENT_LOG_PREFIX, MARKER_PREFIX, clampLine } from './protocol.js';

/** How long a marker may take to be read back before it is reported and skipped (ms). */
export const MARKER_TIMEOUT_MS = 3000;

/** `/dev/kmsg` as the reader uses it. */
export interface KmsgDevice {
  /** One record into `buf`; its length. Throws an error with code `EAGAIN` when caught up, `EPIPE` when records were overwritten. */
  read(buf: Buffer): number;
  /** Write one record (`<PRI>text\n`). */
  write(record: string): void;
  close(): void;
}

/** The guest's `/dev/kmsg`, read-write and non-blocking: a new descriptor starts at the oldest record. */
export function openKmsg(path = '/dev/kmsg'): KmsgDevice {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  return {
    read: (buf) => readSync(fd, buf, 0, buf.length, null),
    write: (record) => {
      writeSync(fd, record);
    },
    close: () => closeSync(fd),
  };
}

export class KernelLog {
  /** The last record's sequence number (-1: none read yet). */
  lastSeq = -1;
  /** Times the kernel said records were overwritten before they were read. */
  lost = 0;
  private readonly buf = Buffer.alloc(16384);
  private readonly markerWaiters = new Map<string, () => void>();

  /** `queued`: lines were pushed to `outbox` (send them). */
  constructor(
    private readonly device: KmsgDevice,
    private readonly outbox: Outbox,
    private readonly queued: () => void,
  ) {}

  /** Read every record there is now; queue their lines; call `queued` if any record was read. */
  drain(): void {
    let count = 0;
    for (;;) {
      let n: number;
      try {
        n = this.device.read(this.buf);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        if (code === 'EPIPE') {
          // records overwritten before we read them
          this.lost++;
          this.outbox.push([`${AGENT_LOG_PREFIX}kernel log records lost (overwritten) after seq ${this.lastSeq}`]);
          continue;
        }
        throw e;
      }
      const r = parseKmsgRecord(this.buf.toString('latin1', 0, n));
      if (!r) continue;
      if (this.lastSeq >= 0 && r.seq !== this.lastSeq + 1)
        this.outbox.push([`${AGENT_LOG_PREFIX}kernel log records lost: seq ${this.lastSeq} -> ${r.seq}`]);
      this.lastSeq = r.seq;
      count++;
      this.outbox.push(consoleLines(r).map(clampLine));
      const waiter = this.markerWaiters.get(r.text);
      if (waiter) {
        this.markerWaiters.delete(r.text);
        waiter();
      }
    }
    if (count) this.queued();
  }

  /**
   * Write a marker record (MARKER_PREFIX + `text`, facility user, level info: it reaches the console
   * too) and wait until it has been read back, or report it as not seen after {@link MARKER_TIMEOUT_MS}.
   */
  mark(text: string): Promise<void> {
    const full = `${MARKER_PREFIX}${text}`;
    const seen = new Promise<void>((resolve) => {
      this.markerWaiters.set(full, resolve);
      setTimeout(() => {
        if (this.markerWaiters.delete(full)) {
          this.outbox.push([`${AGENT_LOG_PREFIX}marker not seen in the kernel log: ${full}`]);
          this.queued();
          resolve();
        }
      }, MARKER_TIMEOUT_MS).unref();
    });
    this.device.write(`<14>${full}\n`);
    this.drain();
    return seen;
  }

  close(): void {
    this.device.close();
  }
}
