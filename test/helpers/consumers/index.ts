/**
 * What CI shows for our reports, against what we say: the consumer parsers
 * (README.md) read the JUnit, tap-parser the TAP, and every one must give the
 * exit code's verdict, our counts, a time everywhere, each crash once and
 * every test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { exitCodeFor } from '../../../runner/exit-codes.js';
import type { RunResult, TestNode, TestStatus } from '../../../runner/ktap/model.js';
import { crashOutsideTests, isNormalEnd } from '../../../runner/ktap/status.js';
import { parseTap } from '../tap.js';
import { dorny } from './dorny.js';
import { gitlab, PARSING } from './gitlab.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** A python3 that has junitparser (python3-junitparser), or a clear error. */
function python(): string {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import junitparser'], { stdio: 'ignore' });
      return py;
    } catch { /* try the next */ }
  }
  throw new Error('no python3 with junitparser: install it (Debian: apt-get install python3-junitparser)');
}

export interface JunitparserCase {
  suite: string; classname: string; name: string; kind: 'passed' | 'failure' | 'error' | 'skipped';
  time: number | null; texts: (string | null)[]; systemOut: string | null;
}
export interface JunitparserView { verify: 0 | 1; cases: JunitparserCase[]; time: number | null; suites: { name: string; time: number | null }[] }

/** junitparser's reading of some JUnit files, in one python run. */
export function junitparser(files: string[]): Record<string, JunitparserView> {
  const out = execFileSync(python(), [join(HERE, 'read_junit.py'), ...files], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out) as Record<string, JunitparserView>;
}

type Kind = JunitparserCase['kind'];
/** The JUnit element each status is written as (docs/reports.md). */
const KIND: Record<TestStatus, Kind | undefined> = {
  pass: 'passed', xfail: 'passed', skip: 'skipped', todo: 'skipped', 'not-run': 'skipped', 'no-tests': undefined,
  fail: 'failure', timeout: 'error', error: 'error', crashed: 'error', incomplete: 'error',
};

/** Every leaf test of ours, as `suite path/name` with the kind of case it must be, suites named as the JUnit names them. */
export function expectedCases(result: RunResult): Map<string, Kind> {
  const out = new Map<string, Kind>();
  const seen = new Map<string, number>();
  const suiteName = (path: string): string => {
    const n = (seen.get(path) ?? 0) + 1;
    seen.set(path, n);
    return n === 1 ? path : `${path} #${n}`;
  };
  const add = (suite: string, node: TestNode): void => {
    const kind = KIND[node.status];
    if (kind) out.set(`${suite}/${node.name}`, kind);
  };
  const walk = (path: string[], node: TestNode): void => {
    const suite = suiteName(path.join('.'));
    if (node.children.length === 0) add(suite, node);
    const nested: TestNode[] = [];
    for (const c of node.children) (c.children.length > 0 ? nested.push(c) : add(suite, c));
    for (const c of nested) walk([...path, c.name], c);
  };
  for (const d of result.documents) for (const t of d.tests) walk([t.name], t);
  return out;
}

/** A consumer's cases, keyed as {@link expectedCases}. */
interface Seen { key: string; kind: Kind }

function agreeOnCases(who: string, result: RunResult, cases: Seen[]): void {
  const expected = expectedCases(result);
  const byKey = new Map<string, Kind[]>();
  for (const c of cases) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c.kind]);
  // No vanished test, none changed kind.
  for (const [key, kind] of expected) {
    expect(byKey.get(key), `${who}: ${key}`).toContain(kind);
  }
  // What is there beyond our leaves is a red case saying why (a suite that failed on its own, the run's problem).
  const extra = cases.filter((c) => !expected.has(c.key));
  for (const c of extra) expect(['failure', 'error'], `${who}: extra case ${c.key}`).toContain(c.kind);
  const c = result.counts;
  const tally = (k: Kind): number => cases.filter((x) => x.kind === k).length;
  expect(tally('passed'), `${who}: passed`).toBe(c.passed + c.xfail);
  expect(tally('skipped'), `${who}: skipped`).toBe(c.skipped + c.todo + c.notRun);
  expect(tally('failure') + tally('error') - extra.length, `${who}: failed`).toBe(c.failed + c.timeout + c.errors + c.crashed + c.incomplete);
}

/** How many of these texts tell the run's crash (the one a test carries, or the one outside any test). */
function crashMentions(result: RunResult, texts: string[]): { expected: number; seen: number } | undefined {
  const crash = result.crash;
  if (!crash) return undefined;
  const outside = crashOutsideTests(result);
  const expected = outside && isNormalEnd(outside) ? 0 : 1;
  return { expected, seen: texts.filter((t) => t.includes(crash.reason)).length };
}

/**
 * Read `xml` (written to `file`) with dorny, GitLab and junitparser (`jp`,
 * read beforehand in one batch) and check they agree with `result`.
 */
export async function expectJunitAgrees(result: RunResult, xml: string, jp: JunitparserView): Promise<void> {
  const red = exitCodeFor(result.verdict) !== 0;

  const d = await dorny(xml);
  expect(d.conclusion, 'dorny: conclusion').toBe(red ? 'failure' : 'success');
  expect(Number.isFinite(d.time), 'dorny: run time').toBe(true);
  for (const t of d.times) expect(Number.isFinite(t), 'dorny: a suite or test time').toBe(true);
  expect(d.tests, 'dorny: tests').toBe(d.passed + d.failed + d.skipped);

  const g = await gitlab(xml);
  expect(g.suiteError, 'GitLab: suite error').toBeUndefined();
  expect(g.totalStatus, 'GitLab: status').toBe(red ? 'failed' : 'success');
  // GitLab keeps one case per suite, classname and name: two alike would be one.
  expect(g.totalCount, 'GitLab: total (a case with the same suite, classname and name vanishes)').toBe(g.cases.length);
  for (const c of g.cases) {
    if (c.status === 'failed' || c.status === 'error') {
      expect(typeof c.systemOutput, `GitLab: ${c.name} output must be text, not a Hash`).toBe('string');
      expect(String(c.systemOutput).trim(), `GitLab: ${c.name} output`).not.toBe('');
    }
  }
  const kinds = { success: 'passed', failed: 'failure', error: 'error', skipped: 'skipped' } as const;
  agreeOnCases('GitLab', result, g.cases.map((c) => ({ key: `${c.suiteName}/${c.name}`, kind: kinds[c.status] })));

  expect(jp.verify, 'junitparser verify').toBe(red ? 1 : 0);
  expect(jp.time, 'junitparser: root time').not.toBeNull();
  agreeOnCases('junitparser', result, jp.cases.map((c) => ({ key: `${c.suite}/${c.name}`, kind: c.kind })));
  const bodies: string[] = [];
  for (const c of jp.cases) {
    expect(c.time, `junitparser: ${c.name} time`).not.toBeNull();
    if (c.kind === 'failure' || c.kind === 'error') {
      const text = c.texts.join('\n');
      expect(text.trim(), `junitparser: ${c.name} has a text`).not.toBe('');
      bodies.push(text);
      // The log once: in the failure's body, not again in <system-out>.
      const first = text.split('\n').find((l) => l.trim() !== '');
      if (c.systemOut && first) expect(c.systemOut, `junitparser: ${c.name} log written twice`).not.toContain(first);
    }
  }
  const crash = crashMentions(result, bodies);
  if (crash) expect(crash.seen, 'the crash is reported once (or, the kernel\'s normal end, not as an error)').toBe(crash.expected);
  // No `type` that Rails' XmlMini would typecast or refuse.
  for (const m of xml.matchAll(/<(?:failure|error)[^>]* type="([^"]*)"/g)) expect(PARSING.has(m[1]!), `type="${m[1]}"`).toBe(false);
}

/** tap-parser's verdict and counts on our TAP. */
export async function expectTapAgrees(result: RunResult, tap: string): Promise<void> {
  const red = exitCodeFor(result.verdict) !== 0;
  const parsed = await parseTap(tap);
  expect(parsed.top.ok, 'tap-parser ok').toBe(!red);
  if (result.verdict === 'no-ktap') return;
  const c = result.counts;
  // tap-parser's own tallies (docs/reports.md): `fail` counts every `not ok`, `# TODO` included; `pass`
  // every `ok`, `# SKIP` included.
  let leaves = 0;
  let fail = 0;
  let pass = 0;
  for (const { result: r } of parsed.asserts) {
    if (r.closingTestPoint) continue;
    leaves++;
    if (r.ok) pass++;
    else fail++;
  }
  expect(leaves, 'TAP leaves').toBe(c.total);
  expect(fail, 'TAP not ok').toBe(c.failed + c.timeout + c.errors + c.crashed + c.incomplete + c.todo);
  expect(pass, 'TAP ok').toBe(c.passed + c.xfail + c.skipped + c.notRun);
  const points = parsed.asserts.filter((a) => !a.result.closingTestPoint);
  const crash = crashMentions(result, points.map((a) => JSON.stringify(a.result.diag ?? {})));
  if (crash && crash.expected === 1 && crashOutsideTests(result) === undefined) expect(crash.seen, 'TAP: the crash once').toBe(1);
}

/** Write a file for junitparser. */
export function writeJunit(dir: string, name: string, xml: string): string {
  const file = join(dir, `${name.replace(/[^\w.-]+/g, '_')}.xml`);
  writeFileSync(file, xml);
  return file;
}

interface JsonTest extends Omit<TestNode, 'children' | 'log' | 'attributes'> { tests?: JsonTest[]; log?: string[]; attributes?: Record<string, string> }

/** A native JSON report (docs/json-format.md) back as a RunResult. */
export function fromNativeJson(text: string): RunResult {
  const json = JSON.parse(text) as Omit<RunResult, 'documents'> & { documents: Array<Omit<RunResult['documents'][number], 'tests'> & { tests: JsonTest[] }> };
  const node = ({ tests, log, attributes, ...rest }: JsonTest): TestNode => ({ ...rest, log: log ?? [], attributes: attributes ?? {}, children: (tests ?? []).map(node) });
  return {
    ...json,
    documents: json.documents.map((d) => ({ ...d, log: d.log ?? [], attributes: d.attributes ?? {}, tests: d.tests.map(node) })),
  };
}

/**
 * A finished `run`'s reports in `dir` (results.json, and the JUnit and TAP
 * files given) against its exit code, as CI reads them.
 */
export async function expectRunReportsAgree(dir: string, exitCode: number | null, files: { junit?: string; tap?: string }): Promise<void> {
  const result = fromNativeJson(readFileSync(join(dir, 'results.json'), 'utf8'));
  expect(exitCodeFor(result.verdict), 'results.json verdict').toBe(exitCode);
  if (files.junit) {
    const xml = readFileSync(files.junit, 'utf8');
    await expectJunitAgrees(result, xml, junitparser([files.junit])[files.junit]!);
  }
  if (files.tap) await expectTapAgrees(result, readFileSync(files.tap, 'utf8'));
}
