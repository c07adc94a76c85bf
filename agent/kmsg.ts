/**
 * `/dev/kmsg` records → console lines. Pure.
 *
 * One read() of /dev/kmsg is one record: `PRI,SEQ,USEC,FLAGS[,…];TEXT\n`
 * then zero or more ` KEY=VALUE\n` lines. TEXT escapes bytes below 0x20,
 * 0x7f and above, and `\` as `\xNN`; a multi-line printk is one record with
 * `\x0a`. The console prints `[%5lu.%06lu] ` before each line of a record,
 * so rendering records that way gives lines byte-identical to the serial
 * console's (which is how the runner joins the two streams).
 */

export interface KmsgRecord {
  level: number;
  facility: number;
  seq: number;
  usec: number;
  flags: string;
  /** The text, unescaped (may hold newlines). */
  text: string;
}

const ESCAPE = /\\x([0-9a-fA-F]{2})/g;

/** Undo /dev/kmsg's `\xNN` escapes; the bytes they stand for are UTF-8. */
export function unescapeKmsg(text: string): string {
  if (!text.includes('\\x')) return text;
  const bytes: number[] = [];
  let last = 0;
  for (const m of text.matchAll(ESCAPE)) {
    for (const ch of Buffer.from(text.slice(last, m.index), 'latin1')) bytes.push(ch);
    bytes.push(parseInt(m[1]!, 16));
    last = m.index + m[0].length;
  }
  for (const ch of Buffer.from(text.slice(last), 'latin1')) bytes.push(ch);
  return Buffer.from(bytes).toString('utf8');
}

/** Parse one record as read (latin1-decoded: the header and the escaped text are ASCII). */
export function parseKmsgRecord(raw: string): KmsgRecord | undefined {
  const semi = raw.indexOf(';');
  if (semi < 0) return undefined;
  const [pri, seq, usec, flags] = raw.slice(0, semi).split(',');
  const p = Number(pri);
  const s = Number(seq);
  const u = Number(usec);
  if (!Number.isInteger(p) || !Number.isInteger(s) || !Number.isInteger(u)) return undefined;
  const nl = raw.indexOf('\n', semi);
  return {
    level: p & 7,
    facility: p >> 3,
    seq: s,
    usec: u,
    flags: flags ?? '',
    text: unescapeKmsg(raw.slice(semi + 1, nl < 0 ? undefined : nl)),
  };
}

/** The console's rendering of a record: one line per line of text, each with the printk time. */
export function consoleLines(r: KmsgRecord): string[] {
  const prefix = `[${String(Math.floor(r.usec / 1e6)).padStart(5)}.${String(r.usec % 1e6).padStart(6, '0')}] `;
  return r.text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => prefix + l);
}
