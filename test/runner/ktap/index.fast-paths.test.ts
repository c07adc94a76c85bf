/**
 * The hand-written fast paths against the regular expressions they replace
 * (kept here as the reference), on random input: the printk prefix scan, the
 * crash signatures, result lines, and the line splitter's ASCII and byte
 * paths. Also `logEvents: false`.
 */
import { describe, expect, test } from 'vitest';
import { crashStart, stripPrintk } from '../../../runner/ktap/console-filter.js';
import { classify } from '../../../runner/ktap/grammar.js';
import { LineSplitter, type LineInfo } from '../../../runner/ktap/line-splitter.js';
import { KtapStream, type KtapEvent } from '../../../runner/ktap/index.js';
import { mulberry32 } from '../../helpers/prng.js';
import { corpus } from '../../helpers/corpus.js';
import { readFileSync } from 'node:fs';

const PRINTK_PREFIX = /^(?:<\d{1,2}>)?(?:\[\s*(\d+\.\d+)\])?(?:\[\s*[TC]\d+\])?/;
function refStrip(line: string): { body: string; time?: number; printk: boolean } {
  const m = PRINTK_PREFIX.exec(line);
  if (m === null || m[0].length === 0) return { body: line, printk: false };
  let n = m[0].length;
  if (line.charCodeAt(n) === 0x20) n++;
  return m[1] === undefined ? { body: line.slice(n), printk: true } : { body: line.slice(n), time: Number(m[1]), printk: true };
}

const CRASHES: ReadonlyArray<readonly [RegExp, string, boolean]> = [
  [/^Kernel panic - not syncing/, 'panic', true],
  [/^BUG: KASAN:/, 'kasan', false],
  [/^(?:BUG: KFENCE:|UBSAN:)/, 'other', false],
  [/^(?:BUG:|kernel BUG at |watchdog: BUG:)/, 'bug', false],
  [/^(?:Oops(?::| -)|Internal error: Oops)/, 'oops', false],
  [/^general protection fault/, 'gpf', false],
  [/^Unable to handle kernel /, 'oops', false],
  [/^(?:rust_kernel: )?panicked at /, 'rust-panic', false],
];
function refCrash(body: string): { kind: string; fatal: boolean } | undefined {
  const text = body.replace(/^[ \t]*/, '');
  for (const [re, kind, fatal] of CRASHES) if (re.test(text)) return { kind, fatal };
  return undefined;
}

const RESULT = /^(not ok|ok)\s+(\d+)(?:\s+-)?(?:\s+(.*))?$/;

/** Random text from pieces that matter to the three grammars. */
function randomLine(rng: ReturnType<typeof mulberry32>): string {
  const pieces = [
    '<',
    '>',
    '6',
    '12',
    '[',
    ']',
    ' ',
    '  ',
    '\t',
    '0',
    '.',
    '123',
    'T',
    'C',
    '1',
    '\u00a0',
    '\u2028',
    '\r',
    '\v',
    'ok',
    'not ok',
    ' - ',
    '-',
    '#',
    '\\',
    'name',
    'BUG:',
    ' KASAN:',
    ' KFENCE:',
    'Kernel panic - not syncing',
    'Oops',
    ':',
    'panicked at ',
    'rust_kernel: ',
    'UBSAN:',
    'Unable to handle kernel ',
    'kernel BUG at ',
    'watchdog: BUG:',
    'Internal error: Oops',
    'general protection fault',
    '99999999999999999999',
    '€',
  ];
  const pick = (a: string[]): string => a[rng.int(a.length)]!;
  const ws = (): string => pick(['', ' ', '    ', '\t', '\u00a0', '\u2028', '\v', '\ufeff', '\u3000', '\u200b']);
  const digits = (): string => pick(['', '0', '12', '661486', '1234567890123456', '1234567890123456789012345']);
  // Mostly well-formed printk prefixes, each part sometimes broken.
  let s =
    rng.int(2) === 0
      ? ''
      : pick(['', '<6>', '<12>', '<123>', '<>', '<6']) +
        pick(['', `[${ws()}${digits()}.${digits()}]`, `[${ws()}${digits()}${digits()}]`]) +
        pick(['', `[${ws()}${pick(['T', 'C', 'X'])}${digits()}]`]) +
        pick(['', ' ', '  ']);
  for (let n = rng.int(12); n >= 0; n--) s += pieces[rng.int(pieces.length)]!;
  return s;
}

describe('fast paths equal their regular expressions', () => {
  const rng = mulberry32(2024);
  const lines = Array.from({ length: 20000 }, () => randomLine(rng));
  lines.push('[    0.661486] x', '[ 12345678901234567.123456789] x', '[0.1234567890123456789012]', '<6>[ 1.5][  T12] x');

  test('printk prefix and time (seed 2024)', () => {
    const same = (a: ReturnType<typeof refStrip>, b: ReturnType<typeof refStrip>): boolean =>
      a.body === b.body && a.time === b.time && a.printk === b.printk && 'time' in a === 'time' in b;
    expect(lines.filter((l) => !same(stripPrintk(l), refStrip(l)))).toEqual([]);
  });

  test('printk times are the same doubles as Number() (seed 7)', () => {
    const r = mulberry32(7);
    const wrong: string[] = [];
    for (let i = 0; i < 100000; i++) {
      const t = `${r.int(100000)}.${String(r.int(1e9))
        .padStart(9, '0')
        .slice(0, 1 + r.int(9))}`;
      if (stripPrintk(`[${' '.repeat(r.int(6))}${t}] x`).time !== Number(t)) wrong.push(t);
    }
    expect(wrong).toEqual([]);
  });

  test('crash signatures (seed 2024)', () => {
    const wrong = lines.filter((l) => JSON.stringify(crashStart(l)) !== JSON.stringify(refCrash(l)));
    expect(wrong).toEqual([]);
  });

  test('result lines (seed 2024)', () => {
    const pick = (a: string[]): string => a[rng.int(a.length)]!;
    const results = Array.from(
      { length: 20000 },
      () =>
        pick(['', '  ', '\t']) +
        pick(['ok', 'not ok', 'okay', 'not  ok']) +
        pick(['', ' ', '  ', '\t', '\r', '\u00a0']) +
        pick(['', '1', '007', '99999999999999999999']) +
        pick(['', ' -', ' - ', '-', ' -\r', '\r-']) +
        pick(['', ' ', '\u2028', '\r ']) +
        randomLine(rng),
    );
    const wrong = results.filter((l) => {
      const k = classify(l);
      const m = RESULT.exec(l.replace(/^[ \t]*/, ''));
      return k.kind === 'result' ? m === null || k.number !== Number(m[2]) : m !== null;
    });
    expect(wrong).toEqual([]);
  });
});

describe('line splitter: ASCII blocks and byte-by-byte decoding give the same lines', () => {
  function split(chunks: Uint8Array[], maxLineBytes?: number): Array<[string, LineInfo | undefined]> {
    const out: Array<[string, LineInfo | undefined]> = [];
    const s = new LineSplitter((t, i) => out.push([t, i]), { maxLineBytes });
    for (const c of chunks) s.push(c);
    s.end();
    return out;
  }
  const rng = mulberry32(31);
  const plain: string[] = [];
  const marked: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const text = rng.int(300) === 0 ? 'L'.repeat(70000 + rng.int(70000)) : randomLine(rng).replace(/[^\x00-\x7f]/g, 'x');
    const line = text + ['\n', '\r\n', '\r\r\n', '\0\n'][rng.int(4)]!;
    plain.push(line);
    marked.push(line);
    // A non-ASCII line now and then: every 64 KiB block of `marked` goes byte by byte.
    if (i % 50 === 0) marked.push('\u00e9\n');
  }
  const ascii = Buffer.from(plain.join(''), 'latin1');
  const utf8 = Buffer.from(marked.join(''), 'utf8');

  test.each([undefined, 100, 70000])('cap %s, whole and in random chunks (seed 31)', (cap) => {
    const whole = split([ascii], cap);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < ascii.length; ) {
      const n = 1 + rng.int(200000);
      chunks.push(Uint8Array.from(ascii.subarray(i, i + n)));
      i += n;
    }
    expect(split(chunks, cap)).toEqual(whole);
    expect(split([utf8], cap).filter(([t]) => t !== '\u00e9')).toEqual(whole);
  });
});

test('logEvents: false leaves out exactly the log events', () => {
  const log = corpus().find((l) => l.name === 'x86_64-rust-kunit--boot')!;
  const bytes = readFileSync(log.path);
  const run = (logEvents?: boolean): [string, string[]] => {
    const events: string[] = [];
    const s = new KtapStream({ logEvents, onEvent: (e: KtapEvent) => events.push(JSON.stringify(e)) });
    s.write(bytes);
    return [JSON.stringify(s.finish()), events];
  };
  const [a, ea] = run();
  const [b, eb] = run(false);
  expect(b).toBe(a);
  expect(ea.some((e) => e.startsWith('{"type":"log"'))).toBe(true);
  expect(eb).toEqual(ea.filter((e) => !e.startsWith('{"type":"log"')));
});
