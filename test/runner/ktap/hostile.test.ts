/**
 * Hostile input: random bytes, damaged real logs, huge lines, odd line
 * endings, absurd nesting. `parseLog` must never throw, the result must stay
 * internally consistent (counts = leaves of the tree, a verdict that follows
 * from them), and every file reporter must render it into a file its
 * consumers accept (JSON.parse, xmllint + junit-10.xsd, tap-parser).
 *
 * Randomised cases use a seeded PRNG; the seed is in the test name.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Parser } from 'tap-parser';
import type { FinalResults } from 'tap-parser';
import { KtapStream, countLeaves, emptyCounts, parseLog } from '../../../runner/ktap/index.js';
import type { Counts, RunResult, TestNode, TestStatus, Verdict } from '../../../runner/ktap/index.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../runner/ktap/line-splitter.js';
import { FILE_REPORTERS, reporterByName } from '../../../reporters/index.js';
import { mulberry32 } from '../../helpers/prng.js';

const SHARED = new URL('../../../../shared/', import.meta.url);
const FIXTURES = new URL('fixtures/', SHARED);
const JUNIT_XSD = fileURLToPath(new URL('schemas/junit-10.xsd', SHARED));

const readFixture = (rel: string): Buffer => readFileSync(new URL(rel, FIXTURES));

/** Real logs the damage is applied to, rotated by seed. */
const REAL_LOGS = [
  'kernels/x86_64-rust-kunit/boot.log',
  'kernels/arm64-rust-kunit/boot.log',
  'kernels/riscv64-rust-kunit/boot.log',
  'kernels/x86_64-rust-kunit-v2/boot-oops.log',
  'kernels/x86_64-rust-kunit-v2/boot-oops-panic.log',
  'kernels/x86_64-rust-kunit-v2/boot-hang.log',
  'ktap/kunit_tool/test_is_test_passed-all_passed_nested.log',
  'ktap/kunit_tool/test_kernel_panic_interrupt.log',
];
const realLog = (seed: number): Buffer => readFixture(REAL_LOGS[seed % REAL_LOGS.length]!);
const MAIN_LOG = 'kernels/x86_64-rust-kunit/boot.log';

const VERDICTS: ReadonlySet<Verdict> = new Set(['passed', 'failed', 'incomplete', 'no-tests', 'no-ktap']);
const STATUSES: ReadonlySet<TestStatus> = new Set([
  'pass', 'fail', 'skip', 'todo', 'xfail', 'timeout', 'error', 'crashed', 'incomplete', 'not-run', 'no-tests',
]);
const MiB = 1024 * 1024;
const XML: Checks = { xml: true };

// ---- checks -----------------------------------------------------------------

function leafCounts(result: RunResult): Counts {
  const counts = emptyCounts();
  for (const d of result.documents) for (const t of d.tests) countLeaves(t, counts);
  return counts;
}

/** Lines the splitter must report for this input (`\n`-terminated, plus a final partial line). */
function expectedLines(input: string | Uint8Array): number {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  if (buf.length > 0 && buf[buf.length - 1] !== 10) n++;
  return n;
}

/** Walk every node iteratively (deep trees must not need deep recursion here). */
function* nodes(result: RunResult): Generator<TestNode> {
  const stack: TestNode[] = [];
  for (const d of result.documents) stack.push(...d.tests);
  while (stack.length > 0) {
    const n = stack.pop()!;
    yield n;
    stack.push(...n.children);
  }
}

/** The verdict the counts and documents call for (model.ts / exit-codes.ts semantics). */
function verdictFor(result: RunResult): Verdict {
  const c = result.counts;
  if (result.documents.length === 0) return 'no-ktap';
  if (c.crashed + c.incomplete + c.notRun > 0 || result.documents.some((d) => !d.complete)) return 'incomplete';
  if (c.failed + c.timeout + c.errors > 0) return 'failed';
  if (c.total === 0) return 'no-tests';
  return 'passed';
}

function checkModel(result: RunResult, input: string | Uint8Array): void {
  expect(VERDICTS.has(result.verdict), `verdict ${result.verdict}`).toBe(true);
  expect(result.counts).toEqual(leafCounts(result));
  const c = result.counts;
  expect(c.total).toBe(c.passed + c.failed + c.skipped + c.todo + c.xfail + c.timeout + c.errors
    + c.crashed + c.incomplete + c.notRun);
  expect(result.verdict).toBe(verdictFor(result));
  expect(result.lines).toBe(expectedLines(input));
  for (const d of result.diagnostics) {
    expect(d.line).toBeGreaterThanOrEqual(0);
    expect(d.line).toBeLessThanOrEqual(result.lines);
  }
  result.documents.forEach((d, i) => {
    expect(d.index).toBe(i);
    expect(d.startLine).toBeLessThanOrEqual(d.endLine);
    expect(d.endLine).toBeLessThanOrEqual(result.lines);
  });
  for (const n of nodes(result)) {
    expect(STATUSES.has(n.status), `status ${n.status}`).toBe(true);
    expect(typeof n.name).toBe('string');
    expect(n.line).toBeLessThanOrEqual(result.lines);
    for (const l of n.log) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(DEFAULT_MAX_LINE_BYTES);
  }
}

function tapParse(tap: string): FinalResults {
  let final: FinalResults | undefined;
  const p = new Parser((r) => { final = r; });
  p.end(tap);
  if (final === undefined) throw new Error('tap-parser did not complete synchronously');
  return final;
}

function xmllint(xml: string): { status: number | null; stderr: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, '-'], {
    input: xml, encoding: 'utf8', maxBuffer: 64 * MiB,
  });
  if (r.error) {
    throw new Error(`xmllint could not run (${r.error.message}): install it (Debian: libxml2-utils)`);
  }
  return { status: r.status, stderr: r.stderr };
}

interface Checks {
  /** Validate the JUnit output with xmllint against junit-10.xsd (a subprocess: not for every case). */
  xml?: boolean;
  /** Read the TAP output back with tap-parser (default true; quadratic in nesting depth). */
  tap?: boolean;
}

function checkReports(result: RunResult, checks: Checks): void {
  const rendered = new Map<string, string>();
  for (const r of FILE_REPORTERS) {
    const out = r.render(result);
    expect(typeof out, r.name).toBe('string');
    rendered.set(r.name, out);
  }

  const json = JSON.parse(rendered.get('json')!) as { schemaVersion: number; counts: Counts; verdict: string };
  expect(json.schemaVersion).toBe(1);
  expect(json.counts).toEqual(result.counts);
  expect(json.verdict).toBe(result.verdict);

  const kunitJson = rendered.get('kunit-json')!;
  expect(() => JSON.parse(kunitJson) as unknown).not.toThrow();
  // eslint-disable-next-line no-control-regex
  expect(/^[\x00-\x7f]*$/.test(kunitJson), 'kunit-json is ASCII only').toBe(true);

  const junit = rendered.get('junit')!;
  // eslint-disable-next-line no-control-regex
  expect(junit).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]/);
  if (checks.xml === true) {
    const v = xmllint(junit);
    expect(v.status, v.stderr).toBe(0);
  }

  if (checks.tap === false) return;
  const tap = tapParse(rendered.get('tap')!);
  // The TAP reporter bails out exactly when there was no KTAP at all (by design).
  expect(Boolean(tap.bailout), `bailout: ${String(tap.bailout)}`).toBe(result.verdict === 'no-ktap');
  if (result.verdict !== 'no-ktap') {
    const tapErrors = tap.failures.filter((f) => 'tapError' in f && f.tapError);
    expect(tapErrors, 'TAP stream errors').toEqual([]);
    expect(tap.count).toBe(result.documents.reduce((n, d) => n + d.tests.length, 0));
  }
}

/** Parse (must not throw), check the model and every report; returns the result. */
function hostile(input: string | Uint8Array, checks: Checks = {}): RunResult {
  let result: RunResult | undefined;
  expect(() => { result = parseLog(input); }).not.toThrow();
  checkModel(result!, input);
  checkReports(result!, checks);
  return result!;
}

/** Structure without logs: names, statuses, nesting. */
function shape(result: RunResult): unknown {
  const s = (n: TestNode): unknown => [n.name, n.status, n.children.map(s)];
  return result.documents.map((d) => d.tests.map(s));
}

const codes = (result: RunResult): string[] => result.diagnostics.map((d) => d.code).sort();

const splitLines = (buf: Buffer): string[] => buf.toString('latin1').split('\n');
const joinLines = (lines: string[]): Buffer => Buffer.from(lines.join('\n'), 'latin1');

// ---- the cases ----------------------------------------------------------------

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
        () => 'KTAP version 1', () => `1..${rng.int(5)}`, () => `ok ${rng.int(6)} t${rng.int(9)}`,
        () => `not ok ${rng.int(6)} t${rng.int(9)}`, () => `# Subtest: s${rng.int(9)}`,
        () => `ok ${rng.int(6)} t # SKIP why`, () => `not ok 1 t # TIMEOUT`, () => '# t: pass:1 fail:0 skip:0 total:1',
        () => 'Oops: 0002 [#1]', () => 'BUG: kernel NULL pointer dereference', () => 'random noise',
        () => 'Kernel panic - not syncing: Fatal exception', () => '---[ end trace 0000000000000000 ]---',
        () => '# Totals: pass:1 fail:0 skip:0 total:1', () => 'TAP version 14',
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
    for (let at = 0; at < withBig.length;) {
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
  const ktap = (body: string[]): string => ['KTAP version 1', '1..1', '    KTAP version 1',
    '    # Subtest: bytes', `    1..${body.length}`, ...body, 'ok 1 bytes', ''].join('\n');

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
    const mixed = text.split('\n').map((l) => l + ends[rng.int(ends.length)]!).join('');
    hostile(Buffer.from(mixed, 'latin1'));
  });
});

describe('hostile input: deep nesting', () => {
  const pad = (level: number): string => '  '.repeat(level);
  /** `depth` levels, each a `KTAP version` + `# Subtest:` + `1..1` one indent deeper. */
  function nested(depth: number): { open: string[]; leaf: string; close: string[] } {
    const open: string[] = ['KTAP version 1', '1..1'];
    for (let i = 1; i <= depth; i++) open.push(`${pad(i)}KTAP version 1`, `${pad(i)}# Subtest: level${i}`, `${pad(i)}1..1`);
    const close: string[] = [];
    for (let i = depth; i >= 1; i--) close.push(`${pad(i - 1)}ok 1 level${i}`);
    return { open, leaf: `${pad(depth + 1)}ok 1 leaf`, close };
  }
  const PANIC = 'Kernel panic - not syncing: Fatal exception';

  // tap-parser is quadratic in the nesting depth (about 3.5 s at 1000 levels,
  // 8-12 s for the longer cut/panic outputs), so at 1000 levels it reads back
  // only the closed tree; the same shapes at 250 levels are read back in full.
  for (const [depth, tap] of [[1000, true], [250, true]] as const) {
    const { open, leaf, close } = nested(depth);

    it(`${depth} levels of # Subtest:, closed`, () => {
      const r = hostile([...open, leaf, ...close, ''].join('\n'), { xml: true, tap });
      expect(r.verdict).toBe('passed');
      expect(r.counts.total).toBe(1);
      expect(r.diagnostics).toEqual([]);
      let depthSeen = 0;
      for (let n = r.documents[0]!.tests[0]; n; n = n.children[0]) depthSeen++;
      expect(depthSeen).toBe(depth + 1);
    });
  }

  for (const [depth, tap] of [[1000, false], [250, true]] as const) {
    const { open } = nested(depth);

    it(`${depth} levels of # Subtest:, cut short`, () => {
      const r = hostile([...open, ''].join('\n'), { xml: depth === 1000, tap });
      expect(r.verdict).toBe('incomplete');
      expect(r.counts.incomplete + r.counts.notRun).toBeGreaterThan(0);
    });

    it(`${depth} levels of # Subtest:, then a panic`, () => {
      const r = hostile([...open, `${pad(depth + 1)}${PANIC}`, ''].join('\n'), { tap });
      expect(r.verdict).toBe('incomplete');
      expect(r.counts.crashed).toBeGreaterThan(0);
    });
  }

  it('3000 plan lines of saw-tooth indentation (0..499), no headers', () => {
    const lines: string[] = ['KTAP version 1'];
    for (let i = 0; i < 3000; i++) lines.push(`${' '.repeat(i % 500)}1..1`);
    hostile(lines.join('\n'), { tap: false });
  });

  it('4000 levels from plan lines alone (4000 lines, 8 MB): every reporter still renders', () => {
    // Each line one space deeper opens one more level: depth grows with the
    // square root of the input size, with no header lines at all.
    const lines: string[] = ['KTAP version 1'];
    for (let i = 1; i <= 4000; i++) lines.push(`${' '.repeat(i)}1..1`);
    const r = hostile(lines.join('\n'), { tap: false });
    expect(r.verdict).toBe('incomplete');
  });
});

describe('hostile input: minimal cases found by fuzzing', () => {
  // A suite whose result line is lost fills the document's plan when the next
  // shallower line closes it; that line must not then find the stack empty.
  const suiteWithoutResult = 'KTAP version 1\n1..1\n    # Subtest: a\n    1..1\n    ok 1 t\n';
  it.each([
    ['a top-level plan after a suite with no result line', `${suiteWithoutResult}1..1\n`],
    ['a top-level # Subtest: after a suite with no result line', `${suiteWithoutResult}# Subtest: b\n`],
    ['a plan-only frame, then a shallower plan', 'KTAP version 1\n1..1\n  1..1\n1..1\n'],
    ['a plan shallower than an indented header, then a result', '    KTAP version 1\n  1..1\n  # Subtest: s\nok 1 t\n'],
  ])('%s', (_name, input) => {
    hostile(input, XML);
  });
});

it('reporterByName knows every file reporter used here', () => {
  for (const name of ['junit', 'tap', 'json', 'kunit-json']) expect(reporterByName(name), name).toBeDefined();
});
