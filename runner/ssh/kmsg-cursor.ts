/**
 * The kernel log as `cat /dev/kmsg` prints it over an exec channel, read
 * across reconnects without a gap or a duplicate. Pure.
 *
 * Accepted format: one record a line, `PRI,SEQ,USEC,FLAGS;TEXT` (TEXT
 * escaped, a multi-line printk is one record with `\x0a`), each followed by
 * zero or more dictionary lines that start with a space (` SUBSYSTEM=pci`):
 *
 *     6,798,11062722,-;ok 1 example
 *      DEVICE=+pci_bus:0000:00
 *
 * `/dev/kmsg` always starts at the oldest record still in the ring, so a new
 * stream after a reconnect repeats what was seen: records up to the last
 * seq seen are dropped; a first new record after more than one step is a
 * gap (the ring was overwritten meanwhile) and is reported as such. A line
 * cut off by a lost connection is dropped: its record comes again.
 */
import { parseKmsgRecord, type KmsgRecord } from '../../agent/kmsg.js';

export interface KmsgGap {
  /** The last seq seen before the gap (-1: none). */
  after: number;
  /** The first seq seen after it. */
  next: number;
}

export type KmsgItem = { kind: 'record'; record: KmsgRecord; raw: string } | { kind: 'gap'; gap: KmsgGap };

export class KmsgCursor {
  /** The last seq delivered (-1: none yet). */
  lastSeq = -1;
  records = 0;
  duplicates = 0;
  readonly gaps: KmsgGap[] = [];
  /** Streams read (1 + reconnects). */
  streams = 0;
  private partial = '';
  private inStream = false;

  /** A new `cat /dev/kmsg` begins (first connection or a reconnect). */
  begin(): void {
    this.partial = '';
    this.inStream = true;
    this.streams++;
  }

  /** A chunk of the stream's stdout → the new records (and gaps) in it, in order. */
  push(chunk: Buffer | string): KmsgItem[] {
    if (!this.inStream) return [];
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const out: KmsgItem[] = [];
    for (const raw of lines) {
      if (raw === '' || raw.startsWith(' ')) continue; // dictionary lines belong to the record before
      const record = parseKmsgRecord(raw);
      if (!record) continue;
      if (record.seq <= this.lastSeq) {
        this.duplicates++;
        continue;
      }
      if (record.seq !== this.lastSeq + 1) {
        // (The first stream, too, may start after seq 0: the boot's oldest records are gone already.)
        const gap = { after: this.lastSeq, next: record.seq };
        this.gaps.push(gap);
        out.push({ kind: 'gap', gap });
      }
      this.lastSeq = record.seq;
      this.records++;
      out.push({ kind: 'record', record, raw });
    }
    return out;
  }

  /** The stream ended (or the connection was lost): a cut-off line is dropped; its record comes again. */
  end(): void {
    this.partial = '';
    this.inStream = false;
  }
}

/** The message for a gap, for results.json and the log. */
export function gapMessage(g: KmsgGap): string {
  return g.after < 0
    ? `the kernel log starts at seq ${g.next}: records 0..${g.next - 1} were overwritten before they could be read`
    : `kernel log records ${g.after + 1}..${g.next - 1} were overwritten in the ring buffer before they could be read (seq ${g.after} -> ${g.next})`;
}

/**
 * The command that streams the kernel log. After a reconnect the target skips what was seen
 * itself (shell builtins only: `read` up to the first record past `afterSeq`, then `cat` on),
 * so a cut connection does not bring the whole ring over again. The host's cursor still drops
 * anything it has seen, and tells a gap from the first seq it gets.
 */
export function kmsgCommand(afterSeq: number): string {
  if (afterSeq < 0) return 'exec cat /dev/kmsg';
  return `cat /dev/kmsg | { while IFS= read -r l; do s=\${l#*,}; s=\${s%%,*}; [ "$s" -gt ${Math.floor(afterSeq)} ] 2>/dev/null && break; done; printf '%s\\n' "$l"; exec cat; }`;
}
