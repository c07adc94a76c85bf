/**
 * Hostile input, byte level: empty and random input, damaged real logs, huge lines,
 * NULs and invalid UTF-8, line endings. No exception escapes; reports stay well-formed.
 */
import { describe, expect, it } from 'vitest';
import { KtapStream, parseLog } from '../../../runner/ktap/index.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../runner/ktap/line-splitter.js';
import { mulberry32 } from '../../helpers/prng.js';
import {
  MAIN_LOG,
  MiB,
  REAL_LOGS,
  XML,
  codes,
  hostile,
  joinLines,
  nodes,
  readFixture,
  realLog,
  shape,
  splitLines,
} from '../../helpers/hostile.js';

describe('hostile input: degenerate', () => {
  it('empty input', () => {
    const r = hostile('', XML);
    expect(r.verdict).toBe('no-ktap');
    expect(r.lines).toBe(0);
    expect(codes(r)).toEqual(['no-ktap']);
  });

  it('empty Uint8Array', () => {
    expect(hostile(new Uint8Array(0)).verdict).toBe('no-ktap');
  });

  it('only newlines', () => {
    const r = hostile('\n'.repeat(10_000), XML);
    expect(r.verdict).toBe('no-ktap');
    expect(r.lines).toBe(10_000);
  });

  it('only CRs and CRLFs', () => {
    expect(hostile('\r\n\r\r\n\r\r\r'.repeat(1000)).verdict).toBe('no-ktap');
  });

  it('a KTAP header and nothing else', () => {
    const r = hostile('KTAP version 1\n', XML);
    expect(r.documents).toHaveLength(1);
  });
});

describe('hostile input: random bytes', () => {
  for (const seed of [1, 2, 3, 42, 0xdeadbeef]) {
    it(`64 KiB of random bytes (seed ${seed})`, () => {
      hostile(mulberry32(seed).bytes(64 * 1024), { xml: seed === 1 });
    });
  }

  for (const seed of [7, 8]) {
    it(`random KTAP-ish lines (seed ${seed})`, () => {
      // Random sequences of real KTAP line kinds at random indents: stresses the nesting stack.
      const rng = mulberry32(seed);
      const kinds = [
        () => 'KTAP version 1',
        () => `1..${rng.int(5)}`,
        () => `ok ${rng.int(6)} t${rng.int(9)}`,
        () => `not ok ${rng.int(6)} t${rng.int(9)}`,
        () => `# Subtest: s${rng.int(9)}`,
        () => `ok ${rng.int(6)} t # SKIP why`,
        () => `not ok 1 t # TIMEOUT`,
        () => '# t: pass:1 fail:0 skip:0 total:1',
        () => 'Oops: 0002 [#1]',
        () => 'BUG: kernel NULL pointer dereference',
        () => 'random noise',
        () => 'Kernel panic - not syncing: Fatal exception',
        () => '---[ end trace 0000000000000000 ]---',
        () => '# Totals: pass:1 fail:0 skip:0 total:1',
        () => 'TAP version 14',
      ];
      const lines: string[] = [];
      for (let i = 0; i < 5000; i++) {
        const prefix = rng.int(3) === 0 ? `[ ${i}.000000] ` : '';
        lines.push(prefix + ' '.repeat(rng.int(5) * 2) + kinds[rng.int(kinds.length)]!());
      }
      hostile(lines.join('\n'), { xml: seed === 7 });
    });
  }
});

describe('hostile input: damaged real logs', () => {
  for (const seed of [11, 12, 13, 14]) {
    it(`200 random byte flips (seed ${seed})`, () => {
      const rng = mulberry32(seed);
      const buf = Buffer.from(realLog(seed));
      for (let i = 0; i < 200; i++) buf[rng.int(buf.length)] = rng.int(256);
      hostile(buf, { xml: seed === 11 });
    });
  }

  for (const seed of [21, 22, 23, 24]) {
    it(`10% of lines deleted (seed ${seed})`, () => {
      const rng = mulberry32(seed);
      const lines = splitLines(realLog(seed)).filter(() => rng.next() >= 0.1);
      hostile(joinLines(lines), { xml: seed === 21 });
    });
  }

  for (const seed of [31, 32, 33]) {
    it(`lines shuffled (seed ${seed})`, () => {
      hostile(joinLines(mulberry32(seed).shuffle(splitLines(realLog(seed)))), { xml: seed === 31 });
    });
  }

  for (const seed of [41, 42, 43]) {
    it(`lines shuffled in small windows (seed ${seed})`, () => {
      const rng = mulberry32(seed);
      const lines = splitLines(realLog(seed));
      for (let i = 0; i + 4 <= lines.length; i += 4) {
        const w = rng.shuffle(lines.slice(i, i + 4));
        lines.splice(i, 4, ...w);
      }
      hostile(joinLines(lines));
    });
  }

  for (const seed of [51, 52, 53, 54, 55, 56, 57, 58]) {
    it(`truncated at a random byte (seed ${seed})`, () => {
      const rng = mulberry32(seed);
      const log = realLog(seed);
      const r = hostile(log.subarray(0, rng.int(log.length)), { xml: seed === 51 });
      expect(['incomplete', 'no-ktap', 'failed', 'passed', 'no-tests']).toContain(r.verdict);
    });
  }

  it('every real log truncated mid-document is never a pass (seed 60)', () => {
    const rng = mulberry32(60);
    for (const rel of REAL_LOGS) {
      const log = readFixture(rel);
      const text = log.toString('latin1');
      const first = text.indexOf('TAP version');
      const last = text.lastIndexOf('ok ');
      if (first === -1 || last <= first) continue;
      // Cut somewhere after the first header and before the last result line.
      const cut = first + 20 + rng.int(Math.max(1, last - first - 20));
      const r = hostile(log.subarray(0, cut));
      expect(r.verdict, `${rel} cut at ${cut}`).not.toBe('passed');
    }
  });
});

describe('hostile input: huge lines', () => {
  const big = 'A'.repeat(4 * MiB);

  it('a single 4 MiB line without newline', () => {
    const r = hostile(big, XML);
    expect(r.lines).toBe(1);
    expect(r.verdict).toBe('no-ktap');
    const t = r.diagnostics.filter((d) => d.code === 'line-truncated');
    expect(t).toHaveLength(1);
    expect(t[0]!.line).toBe(1);
    expect(t[0]!.message).toContain(String(4 * MiB));
  });

  it('a single 4 MiB line with newline', () => {
    const r = hostile(`${big}\n`, XML);
    expect(r.lines).toBe(1);
    expect(codes(r)).toEqual(['line-truncated', 'no-ktap']);
  });

  const clean = readFixture(MAIN_LOG);
  const lines = splitLines(clean);
  const mid = Math.floor(lines.length / 2);
  const withBig = joinLines([...lines.slice(0, mid), `[    0.752000] ${big}`, ...lines.slice(mid)]);

  it('a 4 MiB line in the middle of a real log: capped, diagnosed, the rest unaffected', () => {
    const ref = parseLog(clean);
    const r = hostile(withBig, XML);
    expect(r.counts).toEqual(ref.counts);
    expect(r.verdict).toBe(ref.verdict);
    expect(shape(r)).toEqual(shape(ref));
    expect(codes(r)).toEqual([...codes(ref), 'line-truncated'].sort());
    const t = r.diagnostics.find((d) => d.code === 'line-truncated')!;
    expect(t.line).toBe(mid + 1);
    // The kept part is in some test's log, capped.
    const kept = [...nodes(r)].flatMap((n) => n.log).filter((l) => l.includes('AAAA'));
    expect(kept).toHaveLength(1);
    expect(Buffer.byteLength(kept[0]!)).toBeLessThanOrEqual(DEFAULT_MAX_LINE_BYTES);
    expect(kept[0]!.length).toBeGreaterThan(DEFAULT_MAX_LINE_BYTES / 2);
  });

  it('the same log fed in random chunks gives the same result (seed 70)', () => {
    const rng = mulberry32(70);
    const whole = parseLog(withBig);
    const stream = new KtapStream();
    for (let at = 0; at < withBig.length; ) {
      const n = 1 + rng.int(256 * 1024);
      stream.write(withBig.subarray(at, at + n));
      at += n;
    }
    const chunked = stream.finish();
    expect(chunked).toEqual(whole);
  });

  it('a 4 MiB test name on a result line', () => {
    const ref = parseLog(clean);
    const at = lines.findIndex((l, i) => i > mid && /^\[[^\]]*\]\s+ok \d+ /.test(l));
    const m = /^(\[[^\]]*\]\s+ok \d+ )/.exec(lines[at]!)!;
    const damaged = [...lines];
    damaged[at] = `${m[1]}${'n'.repeat(4 * MiB)}`;
    const r = hostile(joinLines(damaged), XML);
    expect(r.counts).toEqual(ref.counts);
    expect(codes(r)).toContain('line-truncated');
  });

  it('a 4 MiB line of multi-byte characters is cut on a character boundary', () => {
    // 3-byte characters: the 64 KiB cap falls inside one. The line is valid
    // UTF-8, so no U+FFFD may appear and no invalid-utf8 diagnostic either.
    const line = Buffer.from(`[    0.752000] ${'€'.repeat(1_400_000)}`, 'utf8').toString('latin1');
    const euro = joinLines([...lines.slice(0, mid), line, ...lines.slice(mid)]);
    const r = hostile(euro);
    expect(codes(r)).toContain('line-truncated');
    const kept = [...nodes(r)].flatMap((n) => n.log).filter((l) => l.includes('€€€'));
    expect(kept).toHaveLength(1);
    expect(kept[0]!.endsWith('€')).toBe(true);
    expect(codes(r)).not.toContain('invalid-utf8');
  });
});

describe('hostile input: bytes inside KTAP lines', () => {
  const ktap = (body: string[]): string =>
    ['KTAP version 1', '1..1', '    KTAP version 1', '    # Subtest: bytes', `    1..${body.length}`, ...body, 'ok 1 bytes', ''].join('\n');

  it('NUL bytes inside KTAP lines are dropped', () => {
    const r = hostile(ktap(['    ok 1 nul\0_in\0_name', '    o\0k 2 split_keyword', '\0    ok 3 leading_nul']), XML);
    const names = r.documents[0]!.tests[0]!.children.map((c) => c.name);
    expect(names).toEqual(['nul_in_name', 'split_keyword', 'leading_nul']);
    expect(r.verdict).toBe('passed');
  });

  it('invalid UTF-8 inside KTAP lines becomes U+FFFD with a diagnostic', () => {
    const bytes = Buffer.concat([
      Buffer.from('KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: utf\xff8\n    1..3\n', 'latin1'),
      Buffer.from('    ok 1 bad_\xc3(_pair\n    ok 2 overlong_\xc0\xaf\n    # diag \xed\xa0\x80 surrogate\n', 'latin1'),
      Buffer.from('    ok 3 truncated_\xe2\x82\nok 1 utf8\n', 'latin1'),
    ]);
    const r = hostile(bytes, XML);
    expect(r.counts.total).toBe(3);
    expect(r.counts.passed).toBe(3);
    const cases = r.documents[0]!.tests[0]!.children;
    expect(cases.map((c) => c.name.includes('\uFFFD'))).toEqual([true, true, true]);
    expect(codes(r).filter((c) => c === 'invalid-utf8').length).toBe(5);
  });

  it('a real log sprinkled with NULs and invalid bytes at line starts (seed 80)', () => {
    const rng = mulberry32(80);
    const junk = ['\0', '\xff', '\xc3', '\x1b[31m', '\x07', '\0\0\0'];
    const lines = splitLines(readFixture(MAIN_LOG)).map((l) => (rng.int(4) === 0 ? junk[rng.int(junk.length)]! + l : l));
    hostile(joinLines(lines), XML);
  });
});

describe('hostile input: line endings', () => {
  const clean = readFixture(MAIN_LOG);
  const text = clean.toString('latin1').replace(/\r\n/g, '\n');
  const ref = parseLog(clean);

  it('LF and CRLF parse alike', () => {
    const lf = hostile(Buffer.from(text, 'latin1'));
    const crlf = hostile(Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1'));
    expect(lf.counts).toEqual(ref.counts);
    expect(crlf.counts).toEqual(ref.counts);
    expect(shape(crlf)).toEqual(shape(lf));
  });

  it('\\r\\r\\n line endings parse like \\n', () => {
    const r = hostile(Buffer.from(text.replace(/\n/g, '\r\r\n'), 'latin1'), XML);
    expect(r.counts).toEqual(ref.counts);
    expect(shape(r)).toEqual(shape(ref));
  });

  it('CR-only line endings', () => {
    hostile(Buffer.from(text.replace(/\n/g, '\r'), 'latin1'), XML);
  });

  it('mixed line endings (seed 90)', () => {
    const rng = mulberry32(90);
    const ends = ['\n', '\r\n', '\r\r\n', '\r', '\n\r'];
    const mixed = text
      .split('\n')
      .map((l) => l + ends[rng.int(ends.length)]!)
      .join('');
    hostile(Buffer.from(mixed, 'latin1'));
  });
});
