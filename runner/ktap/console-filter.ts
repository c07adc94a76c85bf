/**
 * Stage 2 of 3: console filter. Pure, no I/O.
 *
 * Accepted format: one kernel console line at a time, with or without the
 * printk prefix, e.g.
 *
 *     [    0.661486] KTAP version 1
 *     [    0.060000][    T1]     ok 1 - kunit_resource_test_init_resources
 *     <6>[    1.000000] # Subtest: example
 *
 * Removes the log level (`<6>`), the printk timestamp and the caller id
 * (`[T1]`, `[C0]`), keeping the time; and tells whether a line starts a
 * kernel crash report (panic, Oops, BUG, KASAN, general protection fault,
 * Rust panic) or ends one.
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

// `<6>` level, `[  12.345678]` time, `[    T1]`/`[C0]` caller id, then one optional space.
const PRINTK_PREFIX = /^(?:<\d{1,2}>)?(?:\[\s*(\d+\.\d+)\])?(?:\[\s*[TC]\d+\])?/;

/** Split a console line into printk time and body. */
export function stripPrintk(line: string): ConsoleLine {
  const c = line.charCodeAt(0);
  if (c !== 0x5b /* [ */ && c !== 0x3c /* < */) return { body: line, printk: false };
  const m = PRINTK_PREFIX.exec(line);
  if (m === null || m[0].length === 0) return { body: line, printk: false };
  let n = m[0].length;
  if (line.charCodeAt(n) === 0x20) n++;
  const out: ConsoleLine = { body: line.slice(n), printk: true };
  if (m[1] !== undefined) out.time = Number(m[1]);
  return out;
}

/** A crash signature found on a line. */
export interface CrashStart {
  kind: CrashInfo['kind'];
  /** True when nothing more will run after it (a panic). */
  fatal: boolean;
}

/**
 * The crash report signatures, in the order they are tried. Anchored at the
 * start of the (whitespace-trimmed) body.
 */
const CRASH_SIGNATURES: ReadonlyArray<readonly [RegExp, CrashInfo['kind'], boolean]> = [
  [/^Kernel panic - not syncing/, 'panic', true],
  [/^BUG: KASAN:/, 'kasan', false],
  [/^(?:BUG: KFENCE:|UBSAN:)/, 'other', false],
  [/^(?:BUG:|kernel BUG at |watchdog: BUG:)/, 'bug', false],
  [/^(?:Oops(?::| -)|Internal error: Oops)/, 'oops', false],
  [/^general protection fault/, 'gpf', false],
  [/^Unable to handle kernel /, 'oops', false],
  [/^(?:rust_kernel: )?panicked at /, 'rust-panic', false],
];

/** Does this line start a crash report? Cheap for ordinary lines. */
export function crashStart(body: string): CrashStart | undefined {
  let i = 0;
  while (i < body.length && (body.charCodeAt(i) === 0x20 || body.charCodeAt(i) === 0x09)) i++;
  const c = body.charCodeAt(i);
  // First letters of every signature: K B k w O I g U u r p
  if (c !== 0x4b && c !== 0x42 && c !== 0x6b && c !== 0x77 && c !== 0x4f && c !== 0x49
    && c !== 0x67 && c !== 0x55 && c !== 0x72 && c !== 0x70) return undefined;
  const text = i === 0 ? body : body.slice(i);
  for (const [re, kind, fatal] of CRASH_SIGNATURES) {
    if (re.test(text)) return { kind, fatal };
  }
  return undefined;
}

/** Does this line end a crash report's trace? */
export function crashEnd(body: string): boolean {
  return body.includes('---[ end trace') || body.includes('---[ end Kernel panic');
}

/** Lines kept per crash trace (the first ones; the rest are still in the raw log). */
export const MAX_TRACE_LINES = 200;
