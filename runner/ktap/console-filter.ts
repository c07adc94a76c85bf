/**
 * Stage 2 of 4: console filter. Pure, no I/O.
 *
 * Accepted format: one kernel console line at a time, with or without the
 * printk prefix, e.g.
 *
 *     [    0.661486] KTAP version 1
 *     [    0.060000][    T1]     ok 1 - kunit_resource_test_init_resources
 *     <6>[    1.000000] # Subtest: example
 *     kunit-vm0: KTAP version 1              (a document prefix, in a log without printk output)
 *     [    1.2] Oops: general protection fault ...
 *
 * {@link ConsoleFilter} reads each line once: removes the log level (`<6>`),
 * the printk timestamp (kept as the line's time) and the caller id (`[T1]`,
 * `[C0]`); finds and strips a document's fixed prefix; tells lines foreign
 * to the open document (no printk prefix in a printk document, or without
 * the document's prefix) from the document's own; and tells whether a line
 * starts a kernel crash report (panic, Oops, BUG, KASAN, general protection
 * fault, Rust panic). {@link crashEnd} tells where a report's trace ends.
 */
import type { CrashInfo } from './model.js';

/** A console line with its printk prefix removed. */
export interface ConsoleLine {
  /** The line without printk prefix. */
  body: string;
  /** Printk time in seconds, when the line had a timestamp. */
  time?: number;
  /** True when a printk prefix (level, time or caller id) was removed. */
  printk: boolean;
}

/** JavaScript's `\s`: ASCII whitespace, line terminators and the Unicode spaces. */
export function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Finds the printk prefix of a line without allocating: `<6>` level,
 * `[  12.345678]` time, `[    T1]`/`[C0]` caller id (each optional, in that
 * order), then one optional space. After {@link scan}, `end` is where the
 * body starts and `time` the printk time (NaN without one).
 */
export class PrintkScanner {
  end = 0;
  time = NaN;

  /** True when `line` has a printk prefix. */
  scan(line: string): boolean {
    this.time = NaN;
    this.end = 0;
    let p = 0;
    let c = line.charCodeAt(0);
    if (c === 0x3c /* < */) {
      let q = 1;
      if (isDigit(line.charCodeAt(q))) q++;
      if (q > 1 && isDigit(line.charCodeAt(q))) q++;
      if (q > 1 && line.charCodeAt(q) === 0x3e /* > */) p = q + 1;
      c = line.charCodeAt(p);
    }
    if (c === 0x5b /* [ */) {
      p = this.scanTime(line, p);
      c = line.charCodeAt(p);
    }
    if (c === 0x5b) {
      let q = p + 1;
      c = line.charCodeAt(q);
      while (isSpace(c)) c = line.charCodeAt(++q);
      if (c === 0x54 /* T */ || c === 0x43 /* C */) {
        const d = ++q;
        c = line.charCodeAt(q);
        while (isDigit(c)) c = line.charCodeAt(++q);
        if (q > d && c === 0x5d /* ] */) p = q + 1;
      }
    }
    if (p === 0) return false;
    this.end = line.charCodeAt(p) === 0x20 ? p + 1 : p;
    return true;
  }

  /** `[\s*\d+.\d+]` at `p`: sets the time and returns the end, or returns `p`. */
  private scanTime(line: string, p: number): number {
    let q = p + 1;
    let c = line.charCodeAt(q);
    while (isSpace(c)) c = line.charCodeAt(++q);
    const i0 = q;
    let int = 0;
    while (c >= 0x30 && c <= 0x39) {
      int = int * 10 + c - 0x30;
      c = line.charCodeAt(++q);
    }
    if (q === i0 || c !== 0x2e /* . */) return p;
    const f0 = ++q;
    let frac = 0;
    c = line.charCodeAt(q);
    while (c >= 0x30 && c <= 0x39) {
      frac = frac * 10 + c - 0x30;
      c = line.charCodeAt(++q);
    }
    if (q === f0) return p;
    // `[    0.532009     ok 61 …`: a `]` lost on the way (QEMU's UART drops characters when the
    // host is starved). printk always prints six decimals, so that shape is still a timestamp.
    const damaged = c === 0x20 && q - f0 === 6;
    if (c !== 0x5d /* ] */ && !damaged) return p;
    const digits = q - i0 - 1;
    // Exact integers divided by an exact power of ten: the same double as Number().
    this.time = digits <= 15 ? (int * POW10[q - f0]! + frac) / POW10[q - f0]! : Number(line.slice(i0, q));
    return damaged ? q : q + 1;
  }
}

const POW10: readonly number[] = Array.from({ length: 16 }, (_, i) => Number(`1e${i}`));

const scanner = new PrintkScanner();

/** A line's printk time in seconds, or undefined when it has none. */
export function printkTime(line: string): number | undefined {
  return scanner.scan(line) && !Number.isNaN(scanner.time) ? scanner.time : undefined;
}

/** Split a console line into printk time and body. */
export function stripPrintk(line: string): ConsoleLine {
  if (!scanner.scan(line)) return { body: line, printk: false };
  const out: ConsoleLine = { body: line.slice(scanner.end), printk: true };
  if (!Number.isNaN(scanner.time)) out.time = scanner.time;
  return out;
}

/** A crash signature found on a line. */
export interface CrashStart {
  kind: CrashInfo['kind'];
  /** True when nothing more will run after it (a panic). */
  fatal: boolean;
}

const crash = (kind: CrashInfo['kind'], fatal = false): CrashStart => Object.freeze({ kind, fatal });
const PANIC = crash('panic', true);
const KASAN = crash('kasan');
const OTHER = crash('other');
const BUG = crash('bug');
const OOPS = crash('oops');
const GPF = crash('gpf');
const RUST_PANIC = crash('rust-panic');

/**
 * Does this line start a crash report? Cheap for ordinary lines. The
 * signatures, anchored at the first character that is not a space or tab
 * (at or after `from`), and tried in this order:
 *
 *     Kernel panic - not syncing                         panic (fatal)
 *     BUG: KASAN:                                        kasan
 *     BUG: KFENCE:, UBSAN:                               other
 *     BUG:, kernel BUG at , watchdog: BUG:               bug
 *     Oops:, Oops -, Internal error: Oops                oops
 *     general protection fault                           gpf
 *     Unable to handle kernel                            oops
 *     panicked at , rust_kernel: panicked at             rust-panic
 */
export function crashStart(body: string, from = 0): CrashStart | undefined {
  let i = from;
  let c = body.charCodeAt(i);
  while (c === 0x20 || c === 0x09) c = body.charCodeAt(++i);
  switch (c) {
    case 0x4b: // K
      return body.startsWith('Kernel panic - not syncing', i) ? PANIC : undefined;
    case 0x42: // B
      if (!body.startsWith('BUG:', i)) return undefined;
      if (body.startsWith(' KASAN:', i + 4)) return KASAN;
      return body.startsWith(' KFENCE:', i + 4) ? OTHER : BUG;
    case 0x55: // U
      if (body.startsWith('UBSAN:', i)) return OTHER;
      return body.startsWith('Unable to handle kernel ', i) ? OOPS : undefined;
    case 0x6b: // k
      return body.startsWith('kernel BUG at ', i) ? BUG : undefined;
    case 0x77: // w
      return body.startsWith('watchdog: BUG:', i) ? BUG : undefined;
    case 0x4f: // O
      return body.startsWith('Oops:', i) || body.startsWith('Oops -', i) ? OOPS : undefined;
    case 0x49: // I
      return body.startsWith('Internal error: Oops', i) ? OOPS : undefined;
    case 0x67: // g
      return body.startsWith('general protection fault', i) ? GPF : undefined;
    case 0x72: // r
      return body.startsWith('rust_kernel: panicked at ', i) ? RUST_PANIC : undefined;
    case 0x70: // p
      return body.startsWith('panicked at ', i) ? RUST_PANIC : undefined;
    default:
      return undefined;
  }
}

/** Does this line end a crash report's trace? */
export function crashEnd(body: string): boolean {
  return body.includes('---[ end trace') || body.includes('---[ end Kernel panic');
}

/** Lines kept per crash trace (the first ones; the rest are still in the raw log). */
export const MAX_TRACE_LINES = 200;

/** What {@link ConsoleFilter.read} made of a line. */
export type FilteredKind =
  /** A line of the console's own, to be classified by the KTAP grammar from `from` on. */
  | 'line'
  /** Not from the open document's writer (an echo, QEMU's own messages): kept in the log, never parsed. */
  | 'foreign'
  /** A crash signature (`crash` tells which). */
  | 'crash';

/** `<prefix>KTAP version N` (or TAP): the version line of a document whose every line has a fixed prefix. */
const PREFIXED_VERSION = /^(.*?)(K?TAP) version (\d+)\s*$/;

/**
 * The console filter: one call per line ({@link read}), results in its
 * fields until the next call (no allocation per line). Its state is the open
 * document's shape: whether its lines carry a printk prefix and which fixed
 * prefix they carry, taken from the line that began the document (the
 * caller says when one did: {@link documentStarted}).
 */
export class ConsoleFilter {
  /** Where the line's body starts: after the printk prefix and the document's prefix. */
  from = 0;
  /** The line's printk time in seconds; NaN without one. */
  time = NaN;
  /** For a `crash` line: its signature. */
  crash: CrashStart | undefined;
  private readonly scanner = new PrintkScanner();
  /** The last line read had a printk prefix. */
  private printk = false;
  /** The document prefix the last line read carried ('' for none). */
  private carried = '';
  /** The open document's prefix, and whether its lines carry printk prefixes. */
  private prefix = '';
  private printkDoc = false;
  /** Some document in this log had printk prefixes: from then on a prefixed version line is an echo. */
  private sawPrintkDoc = false;

  /** Read one line; `inDocument` tells whether a KTAP document is open. */
  read(raw: string, inDocument: boolean): FilteredKind {
    const sc = this.scanner;
    const printk = sc.scan(raw);
    let from = sc.end;
    this.time = sc.time;
    this.printk = printk;
    this.carried = '';
    if (inDocument) {
      if (this.printkDoc && !printk) return this.foreign(from);
      if (this.prefix !== '') {
        if (!raw.startsWith(this.prefix, from)) return this.foreign(from);
        from += this.prefix.length;
        this.carried = this.prefix;
      }
    }
    this.from = from;
    const cs = crashStart(raw, from);
    this.crash = cs;
    if (cs !== undefined) return 'crash';
    // A custom prefix (`foo: KTAP version 1`) counts only in logs without printk
    // output; on a kernel console such a line is someone echoing KTAP.
    if (!inDocument && !printk && !this.sawPrintkDoc && raw.indexOf('TAP version ', from) > from) {
      const m = PREFIXED_VERSION.exec(raw.slice(from));
      if (m && m[1]!.trim() !== '') {
        this.carried = m[1]!;
        this.from = from + m[1]!.length;
      }
    }
    return 'line';
  }

  /** The line just read began a KTAP document: its shape is the document's. */
  documentStarted(): void {
    this.prefix = this.carried;
    this.printkDoc = this.printk;
    if (this.printk) this.sawPrintkDoc = true;
  }

  private foreign(from: number): FilteredKind {
    this.from = from;
    this.crash = undefined;
    return 'foreign';
  }
}
