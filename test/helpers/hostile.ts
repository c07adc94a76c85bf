/**
 * Shared checks for the hostile-input tests: whatever the input, parsing never
 * throws, the model is consistent, and every report stays well-formed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { Parser } from 'tap-parser';
import type { FinalResults } from 'tap-parser';
import { countLeaves, emptyCounts, parseLog } from '../../runner/ktap/index.js';
import type { Counts, RunResult, TestNode, TestStatus, Verdict } from '../../runner/ktap/index.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../runner/ktap/line-splitter.js';
import { FILE_REPORTERS } from '../../reporters/index.js';

export const SHARED = new URL('../../../shared/', import.meta.url);
export const FIXTURES = new URL('fixtures/', SHARED);
export const JUNIT_XSD = fileURLToPath(new URL('schemas/junit-10.xsd', SHARED));

export const readFixture = (rel: string): Buffer => readFileSync(new URL(rel, FIXTURES));

/** Real logs the damage is applied to, rotated by seed. */
export const REAL_LOGS = [
  'kernels/x86_64-rust-kunit/boot.log',
  'kernels/arm64-rust-kunit/boot.log',
  'kernels/riscv64-rust-kunit/boot.log',
  'kernels/x86_64-rust-kunit-v2/boot-oops.log',
  'kernels/x86_64-rust-kunit-v2/boot-oops-panic.log',
  'kernels/x86_64-rust-kunit-v2/boot-hang.log',
  'ktap/kunit_tool/test_is_test_passed-all_passed_nested.log',
  'ktap/kunit_tool/test_kernel_panic_interrupt.log',
];
export const realLog = (seed: number): Buffer => readFixture(REAL_LOGS[seed % REAL_LOGS.length]!);
export const MAIN_LOG = 'kernels/x86_64-rust-kunit/boot.log';

export const VERDICTS: ReadonlySet<Verdict> = new Set(['passed', 'failed', 'incomplete', 'no-tests', 'no-ktap']);
export const STATUSES: ReadonlySet<TestStatus> = new Set([
  'pass',
  'fail',
  'skip',
  'todo',
  'xfail',
  'timeout',
  'error',
  'crashed',
  'incomplete',
  'not-run',
  'no-tests',
]);
export const MiB = 1024 * 1024;
export const XML: Checks = { xml: true };

// ---- checks -----------------------------------------------------------------

export function leafCounts(result: RunResult): Counts {
  const counts = emptyCounts();
  for (const d of result.documents) for (const t of d.tests) countLeaves(t, counts);
  return counts;
}

/** Lines the splitter must report for this input (`\n`-terminated, plus a final partial line). */
export function expectedLines(input: string | Uint8Array): number {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  if (buf.length > 0 && buf[buf.length - 1] !== 10) n++;
  return n;
}

/** Walk every node iteratively (deep trees must not need deep recursion here). */
export function* nodes(result: RunResult): Generator<TestNode> {
  const stack: TestNode[] = [];
  for (const d of result.documents) stack.push(...d.tests);
  while (stack.length > 0) {
    const n = stack.pop()!;
    yield n;
    stack.push(...n.children);
  }
}

/** The verdict the counts, documents and crash call for (ktap/status.ts / exit-codes.ts semantics). */
export function verdictFor(result: RunResult): Verdict {
  const c = result.counts;
  if (result.documents.length === 0) return 'no-ktap';
  // A suite (or parameterised case) that failed on its own: red status, every leaf under it fine.
  const BAD: TestStatus[] = ['fail', 'timeout', 'error', 'crashed', 'incomplete', 'not-run'];
  const badLeaf = (n: TestNode): boolean => (n.children.length === 0 ? BAD.includes(n.status) : n.children.some(badLeaf));
  const own = [...nodes(result)].filter((n) => n.children.length > 0 && BAD.slice(0, 5).includes(n.status) && !badLeaf(n));
  if (
    c.crashed + c.incomplete + c.notRun > 0 ||
    result.documents.some((d) => !d.complete) ||
    own.some((n) => n.status === 'crashed' || n.status === 'incomplete')
  )
    return 'incomplete';
  if (c.failed + c.timeout + c.errors > 0 || own.length > 0) return 'failed';
  // A crash no test carries fails the run, unless it is the kernel's normal end (no init, no root fs).
  const end =
    result.crash?.kind === 'panic' && /No working init found|VFS: Unable to mount root fs|Attempted to kill init/.test(result.crash.reason);
  if (result.crash && !end) return 'failed';
  if (c.total === 0) return 'no-tests';
  return 'passed';
}

export function checkModel(result: RunResult, input: string | Uint8Array): void {
  expect(VERDICTS.has(result.verdict), `verdict ${result.verdict}`).toBe(true);
  expect(result.counts).toEqual(leafCounts(result));
  const c = result.counts;
  expect(c.total).toBe(c.passed + c.failed + c.skipped + c.todo + c.xfail + c.timeout + c.errors + c.crashed + c.incomplete + c.notRun);
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

export function tapParse(tap: string): FinalResults {
  let final: FinalResults | undefined;
  const p = new Parser((r) => {
    final = r;
  });
  p.end(tap);
  if (final === undefined) throw new Error('tap-parser did not complete synchronously');
  return final;
}

export function xmllint(xml: string): { status: number | null; stderr: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, '-'], {
    input: xml,
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
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

export function checkReports(result: RunResult, checks: Checks): void {
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
  // The stream says the exit code's verdict: red exactly when the run did not pass (a failing
  // point, or a bail out when none says so: no KTAP, no tests, cut short, a crash outside any test).
  expect(tap.ok, `TAP ok (bailout: ${String(tap.bailout)})`).toBe(result.verdict === 'passed');
  if (result.verdict === 'passed') expect(tap.bailout).toBe(false);
  if (result.verdict === 'no-ktap') expect(Boolean(tap.bailout)).toBe(true);
  if (result.verdict !== 'no-ktap') {
    const tapErrors = tap.failures.filter((f) => 'tapError' in f && f.tapError);
    expect(tapErrors, 'TAP stream errors').toEqual([]);
    expect(tap.count).toBe(result.documents.reduce((n, d) => n + d.tests.length, 0));
  }
}

/** Parse (must not throw), check the model and every report; returns the result. */
export function hostile(input: string | Uint8Array, checks: Checks = {}): RunResult {
  let result: RunResult | undefined;
  expect(() => {
    result = parseLog(input);
  }).not.toThrow();
  checkModel(result!, input);
  checkReports(result!, checks);
  return result!;
}

/** Structure without logs: names, statuses, nesting. */
export function shape(result: RunResult): unknown {
  const s = (n: TestNode): unknown => [n.name, n.status, n.children.map(s)];
  return result.documents.map((d) => d.tests.map(s));
}

export const codes = (result: RunResult): string[] => result.diagnostics.map((d) => d.code).sort();

export const splitLines = (buf: Buffer): string[] => buf.toString('latin1').split('\n');
export const joinLines = (lines: string[]): Buffer => Buffer.from(lines.join('\n'), 'latin1');

// ---- the cases ----------------------------------------------------------------
