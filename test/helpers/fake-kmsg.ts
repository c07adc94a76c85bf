/**
 * A stand-in for the guest's /dev/kmsg: records queued as the kernel would
 * give them, one per read, EAGAIN when caught up; a record written (`<PRI>text\n`)
 * becomes the next record, as the real device does.
 */
import type { KmsgDevice } from '../../agent/kernel-log.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

export class FakeKmsg implements KmsgDevice {
  private readonly queue: (string | 'EPIPE')[] = [];
  seq = 0;
  usec = 1_000_000;
  closed = false;
  readonly written: string[] = [];

  /** A kernel record (level 6), or several lines of one multi-line printk. */
  printk(text: string, pri = 6): void {
    this.queue.push(`${pri},${this.seq++},${this.usec},-;${text.replace(/\n/g, '\\x0a')}\n`);
    this.usec += 1234;
  }

  /** Records overwritten before they were read: the next read fails with EPIPE, then `n` sequence numbers are gone. */
  overwrite(n: number): void {
    this.queue.push('EPIPE');
    this.seq += n;
  }

  read(buf: Buffer): number {
    const r = this.queue.shift();
    if (r === undefined) throw errno('EAGAIN');
    if (r === 'EPIPE') throw errno('EPIPE');
    return buf.write(r, 'latin1');
  }

  write(record: string): void {
    this.written.push(record);
    const m = /^<(\d+)>(.*)\n$/s.exec(record);
    if (m) this.printk(m[2]!, Number(m[1]));
  }

  close(): void {
    this.closed = true;
  }
}
