/**
 * JUnit XML reporter (`--junit FILE`), built with junit-report-builder.
 *
 * Layout is flat: one `<testsuite>` per KUnit suite path. Each top-level test
 * of each document is a suite; a case that has children (a parameterised test,
 * deeper nesting) becomes its own `<testsuite>` named by its path joined with
 * `.` (`example.example_params_test`). A suite path seen again in a later
 * document gets ` #2`, ` #3`, … so suite names and classnames stay unique.
 *
 * The default output validates against both the Apache Ant/Surefire
 * `junit-10.xsd` and Jenkins' `junit-4.xsd`. What those schemas force:
 * - `<skipped>` carries its reason as text, not a `message` attribute: the
 *   Jenkins schema types `skipped` as a plain string (no attributes). Jenkins
 *   falls back to the text when `message` is absent.
 * - no `skipped` attribute on `<testsuites>` (neither schema has one), and no
 *   `<properties>` there either: run metadata, verdict and counts go once, on
 *   the first `<testsuite>`; each suite keeps only what differs (its status,
 *   its document when there are several, its KTAP attributes).
 *
 * What CI consumers (dorny/test-reporter, mikepenz/action-junit-report,
 * GitLab, Jenkins, junitparser) need to agree with the exit code:
 * - every test is a `<testcase>`, a top-level test without children too;
 * - every `<testsuites>`, `<testsuite>` and `<testcase>` has a `time`
 *   (0 when the log had no timestamps), so no consumer computes NaN;
 * - a run that did not pass always holds a `<failure>` or `<error>`: when no
 *   test shows why (no KTAP, no tests ran, a document cut short, tests never
 *   run, a kernel crash outside any test), a `kunit-bridge` suite does;
 * - the kernel's normal end after its tests (a `No working init found` panic)
 *   is no error: it is the `kunit-bridge.kernel-end` property;
 * - a crash inside a test is reported once, on that test;
 * - `<failure>`/`<error>` always have a text body, and a failing test's log
 *   is that body only (not again in `<system-out>`).
 * - `time` has at most three decimals and no exponent (`SUREFIRE_TIME`).
 * - `file`/`line` on `<testcase>` are in neither schema, so
 *   {@link ReportOptions.junitLocations} (opt-in) makes the file invalid
 *   against both; GitLab and many other consumers read them anyway.
 *
 * Text bodies are added as escaped text, not CDATA: the bundled xmlbuilder 15
 * splits only the first `]]>` of a CDATA section, so a second one in a kernel
 * log would end the section early and break the file.
 */
import { createRequire } from 'node:module';
import type { Builder, TestCase, TestSuite } from 'junit-report-builder';
import { attemptsLine } from '../runner/ktap/model.js';
import type { CrashInfo, DocumentOrigin, RunGroup, RunResult, TestNode } from '../runner/ktap/model.js';
import { knownLabel } from '../runner/gate/outcome.js';
import { crashOutsideTests, failedOnItsOwn, isNormalEnd, RULES, verdictReason } from '../runner/ktap/status.js';
import { propertiesXml, rootXml, suiteXml, type CaseXml, type SuiteXml } from './junit-xml.js';
import { TestCrashes } from './stream.js';
import type { FileReporter, Insertion, ReportOptions, ReportSink, ReportWriter } from './types.js';
import { catalogEntry } from './catalog.js';

type XmlElement = ReturnType<TestCase['build']>;

/**
 * The package's types describe `exports.default`, but its CommonJS build sets
 * `module.exports` to the builder, which is what an ESM default import yields.
 * Accept either shape.
 */
function resolveBuilder(mod: unknown): Builder {
  const m = mod as { newBuilder?: unknown; default?: Builder };
  return typeof m.newBuilder === 'function' ? (m as Builder) : (m.default as Builder);
}
// Loaded when a JUnit report is rendered, not when the registry is imported: the package and its
// xmlbuilder cost ~100 ms of start-up that `parse` without --junit (and `--help`) need not pay.
let rootBuilder: Builder | undefined;
const junitBuilder = (): Builder => (rootBuilder ??= resolveBuilder(createRequire(import.meta.url)('junit-report-builder')));

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b\n]*(?:\x1b\\)?|\x1b[ -/]*[0-~]/g;
// eslint-disable-next-line no-control-regex
const INVALID = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// eslint-disable-next-line no-control-regex
const DIRTY = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]/;

/**
 * Make text safe for XML 1.0 and readable in a CI page: drops ANSI/ESC
 * sequences, then C0 controls other than tab/newline/CR, DEL, lone
 * surrogates and U+FFFE/U+FFFF.
 */
export function cleanXmlText(text: string): string {
  // Most texts have nothing to remove (ANSI sequences start with ESC): one scan instead of two replaces.
  if (!DIRTY.test(text)) return text;
  return text.replace(ANSI, '').replace(INVALID, '');
}

const ASSERTION = /ASSERTION FAILED|EXPECTATION FAILED|Expected /;

/**
 * Seconds with at most 3 decimals (SUREFIRE_TIME); 0 when unknown (consumers compute NaN without one).
 * `Number((ms / 1000).toFixed(3))`, which is `Math.round(ms) / 1000` unless `ms` is within a hair
 * of a half millisecond (where `toFixed` decides by the binary value of `ms / 1000`): below 1e9 ms
 * the two differ by at most 1.2e-7 ms before rounding.
 */
export function seconds(ms: number | undefined): number {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return 0;
  if (ms < 1e9 && Math.abs(ms - Math.floor(ms) - 0.5) > 1e-6) return Math.round(ms) / 1000;
  return Number((ms / 1000).toFixed(3));
}

/** What one testcase element says, decided from the model only. */
interface CaseOutcome {
  kind: 'pass' | 'failure' | 'error' | 'skipped';
  message?: string;
  type?: string;
  body: string;
  /** Extra first lines for `<system-out>` (e.g. `XFAIL: reason`). */
  outPrefix?: string;
}

function withReason(prefix: string, reason: string | undefined): string {
  return reason ? `${prefix}: ${reason}` : prefix;
}

function outcome(node: TestNode): CaseOutcome {
  if (node.status === 'pass') return { kind: 'pass', body: '' };
  const log = node.log.join('\n');
  switch (node.status) {
    case 'xfail':
      return { kind: 'pass', body: '', outPrefix: withReason('XFAIL', node.reason) };
    case 'fail': {
      const message = node.log.find((l) => ASSERTION.test(l)) ?? node.log.find((l) => l.trim() !== '') ?? 'failed';
      return { kind: 'failure', type: 'fail', message: message.trim(), body: log };
    }
    case 'skip':
      return { kind: 'skipped', body: node.reason ?? '' };
    case 'todo':
      return { kind: 'skipped', body: withReason('TODO', node.reason) };
    case 'not-run':
      return { kind: 'skipped', body: 'not run: the run ended before this test' };
    case 'no-tests':
      return { kind: 'skipped', body: 'no tests' };
    case 'crashed': {
      const trace = node.crash ? node.crash.trace.join('\n') : '';
      return {
        kind: 'error',
        type: 'crashed',
        message: node.crash?.reason ?? node.reason ?? 'crashed',
        body: [log, trace].filter((s) => s !== '').join('\n'),
      };
    }
    case 'timeout':
      return { kind: 'error', type: 'timeout', message: withReason('timed out', node.reason), body: log };
    case 'incomplete':
      return { kind: 'error', type: 'incomplete', message: 'no result: output ended before this test finished', body: log };
    case 'error':
      return { kind: 'error', type: 'error', message: node.reason ?? 'error', body: log };
  }
}

/** A known failure (`--known`): skipped with the entry's reason and bug; the log stays in `<system-out>`. */
function knownOutcome(node: TestNode): CaseOutcome {
  const k = node.known!;
  const text = `known failure: ${knownLabel(k)}`;
  const crash = node.crash ? [`kernel crash: ${node.crash.reason}`, ...node.crash.trace] : [];
  return { kind: 'skipped', body: text, outPrefix: [`${text} (status ${node.status}, entry ${k.entry})`, ...crash].join('\n') };
}

/** What one `<testcase>` holds, every text cleaned (reporters/junit-xml.ts writes it); `classname` is cleaned already. */
function caseOf(ctx: JunitContext, classname: string, node: TestNode): CaseXml {
  const o = node.known ? knownOutcome(node) : outcome(node);
  const red = o.kind === 'failure' || o.kind === 'error';
  if (red) ctx.red++;
  if (node.flaky && o.message !== undefined) o.message = `flaky: ${o.message}`;
  const attempts = attemptsLine(node) ?? '';
  if (attempts) o.outPrefix = [attempts, o.outPrefix ?? ''].filter((x) => x !== '').join('\n');
  const location = ctx.options.junitLocations ? node.location : undefined;
  // A failing test's log is its failure's body: once is enough (GitLab, Jenkins show both).
  const out =
    !o.outPrefix && (red || node.log.length === 0)
      ? ''
      : cleanXmlText([o.outPrefix ?? '', ...(red ? [] : node.log)].filter((s) => s !== '').join('\n'));
  // Never an empty failure/error: GitLab shows the element's attributes as a Ruby Hash then.
  const body = cleanXmlText(red && o.body.trim() === '' ? (o.message ?? o.type ?? 'failed') : o.body);
  return {
    classname,
    name: cleanXmlText(node.name),
    time: seconds(node.durationMs),
    kind: o.kind,
    message: o.kind === 'failure' || o.kind === 'error' ? cleanXmlText(o.message ?? '') : undefined,
    type: o.type,
    file: location ? cleanXmlText(location.file) : undefined,
    line: location?.line,
    body: o.kind === 'pass' ? '' : body,
    out,
  };
}

/** Run-level properties, written once on the first suite (neither schema allows them on the root). */
function runProperties(result: RunResult, crash: CrashInfo | undefined): Array<[string, string]> {
  const props: Array<[string, string]> = Object.entries(result.metadata);
  props.push(['kunit-bridge.verdict', result.verdict]);
  for (const [key, value] of Object.entries(result.counts)) props.push([`kunit-bridge.count.${key}`, String(value)]);
  const g = result.gate;
  if (g) {
    props.push(
      ['kunit-bridge.gate.testVerdict', g.testVerdict],
      ['kunit-bridge.gate.known', String(g.known.length)],
      ['kunit-bridge.gate.stale', String(g.stale.length)],
      ['kunit-bridge.gate.expired', String(g.expired.length)],
      ['kunit-bridge.gate.failing', String(g.failing.length)],
    );
    if (g.comparison) props.push(['kunit-bridge.gate.regressions', String(g.comparison.regressions.length)]);
  }
  if (crash && isNormalEnd(crash)) props.push(['kunit-bridge.kernel-end', crash.reason]);
  return props.map(([k, v]) => [cleanXmlText(k), cleanXmlText(v)]);
}

/** What the suites of one run share while they are made: the name counter, options, tallies. */
interface JunitContext {
  seen: Map<string, number>;
  options: ReportOptions;
  /** `<failure>`/`<error>` elements made so far. */
  red: number;
  /** Suites made so far. */
  suites: number;
  /** Sum of the suites' times, for the root. */
  totalSeconds: number;
}

/** Seconds of a suite: its own duration when known, else the sum of its cases'. */
function suiteTime(ctx: JunitContext, node: TestNode | undefined, cases: readonly CaseXml[]): number {
  const own = node?.durationMs;
  let sum = 0;
  for (const c of cases) sum += c.time;
  const time = own !== undefined && Number.isFinite(own) && own >= 0 ? seconds(own) : Number(sum.toFixed(3));
  ctx.totalSeconds += time;
  return time;
}

function uniqueName(ctx: JunitContext, path: string): string {
  const n = (ctx.seen.get(path) ?? 0) + 1;
  ctx.seen.set(path, n);
  return n === 1 ? path : `${path} #${n}`;
}

/** `node` as a `<testsuite>` named by `path`, then its nested suites after it. */
function suitesOf(ctx: JunitContext, path: string[], node: TestNode, document: number, out: SuiteXml[] = []): SuiteXml[] {
  const name = uniqueName(ctx, path.join('.'));
  const props: Array<[string, string]> = [['kunit-bridge.status', node.status]];
  for (const [key, value] of Object.entries(node.attributes)) props.push([cleanXmlText(`ktap.${key}`), cleanXmlText(value)]);
  const suite: SuiteXml = { name: cleanXmlText(name), props, cases: [], time: 0, document };
  ctx.suites++;
  out.push(suite);
  // cleanXmlText leaves nothing for itself to clean: the suite's name is its cases' classname.
  const classname = suite.name;
  if (node.children.length === 0) {
    // A top-level test without children is a test of its own (a suite that crashed before
    // its first case, a kselftest): it must not vanish. A suite of `1..0` is no test.
    if (RULES[node.status].count !== undefined) suite.cases.push(caseOf(ctx, classname, node));
    suite.time = suiteTime(ctx, node, suite.cases);
    return out;
  }
  // The node failed on its own (suite_init/exit, a crash after the last case): show it.
  if (failedOnItsOwn(node)) suite.cases.push(caseOf(ctx, classname, node));
  const nested: TestNode[] = [];
  for (const child of node.children) {
    if (child.children.length > 0) nested.push(child);
    // A case of `1..0` is no test: it is not counted, so it is not written either.
    else if (RULES[child.status].count !== undefined) suite.cases.push(caseOf(ctx, classname, child));
  }
  suite.time = suiteTime(ctx, node, suite.cases);
  for (const child of nested) suitesOf(ctx, [...path, child.name], child, document, out);
  return out;
}

/**
 * A synthetic suite for what no test shows: a crash outside any test (not the
 * kernel's normal end), and, for a run that did not pass with no failure or
 * error written, why (no KTAP, no tests ran, cut short), so CI never shows a
 * green report for a red exit code. Also made when there is no suite at all,
 * to carry the run's properties.
 */
function runSuite(ctx: JunitContext, result: RunResult, crash: CrashInfo | undefined, runName: string): SuiteXml | undefined {
  const problems: TestNode[] = [];
  const blank = { log: [], children: [], attributes: {}, line: 0 };
  const late = crash && !isNormalEnd(crash) ? crash : undefined;
  if (late) problems.push({ ...blank, name: 'kernel crash outside any test', status: 'crashed', crash: late, line: late.line });
  const why = verdictReason(result);
  if (why !== undefined && ctx.red === 0 && problems.length === 0) {
    const name = result.verdict === 'no-ktap' ? 'KTAP output' : result.verdict === 'no-tests' ? 'tests' : 'run';
    problems.push({ ...blank, name, status: 'error', reason: why });
  }
  if (problems.length === 0 && ctx.suites > 0) return undefined;
  const name = cleanXmlText(uniqueName(ctx, runName));
  const cases = problems.map((p) => caseOf(ctx, name, p));
  ctx.suites++;
  return { name, props: [], cases, time: suiteTime(ctx, undefined, cases) };
}

/** A merge of several architectures/kernels: suite names get the group's arch first. */
function archOf(groups: readonly RunGroup[] | undefined, origin: DocumentOrigin | undefined): string | undefined {
  return groups && groups.length > 1 && origin?.group !== undefined ? groups[origin.group]?.arch : undefined;
}

/**
 * The JUnit report written suite by suite (reporters/junit-xml.ts): the run's
 * properties go in on the first suite, and the document of each suite when
 * the run turns out to have several, once the run is finished.
 */
class JunitWriter implements ReportWriter {
  private readonly ctx: JunitContext;
  private readonly crashes = new TestCrashes();
  private readonly tally = { tests: 0, failures: 0, errors: 0 };
  /** Where each suite's properties begin, and its document. */
  private readonly props: Array<{ at: number; document: number }> = [];
  private readonly runName: string;
  private document = 0;
  private arch: string | undefined;

  constructor(
    private readonly sink: ReportSink,
    options: ReportOptions,
    private readonly groups: readonly RunGroup[] | undefined,
  ) {
    this.ctx = { seen: new Map(), options, red: 0, suites: 0, totalSeconds: 0 };
    this.runName = options.runName ?? 'kunit-bridge';
  }

  private write(suite: SuiteXml, extra: Array<[string, string]> = []): void {
    const [before, after] = suiteXml(suite, extra, this.tally);
    this.sink.write(before);
    if (suite.document !== undefined) this.props.push({ at: this.sink.mark(), document: suite.document });
    this.sink.write(after);
  }

  startDocument(index: number, origin: DocumentOrigin | undefined): void {
    this.document = index;
    this.arch = archOf(this.groups, origin);
  }

  test(node: TestNode): void {
    this.crashes.see(node);
    for (const suite of suitesOf(this.ctx, this.arch ? [this.arch, node.name] : [node.name], node, this.document)) this.write(suite);
  }

  endDocument(): void {}

  finish(result: RunResult): Insertion[] {
    const crash = this.crashes.outside(result);
    const runProps = runProperties(result, crash);
    const first = this.props.length === 0;
    const last = runSuite(this.ctx, result, crash, this.runName);
    if (last) this.write(last, first ? runProps : []);
    this.sink.write('</testsuites>\n');
    const many = result.documents.length > 1;
    const insertions: Insertion[] = [
      { at: 0, text: rootXml(cleanXmlText(this.runName), this.tally, Number(this.ctx.totalSeconds.toFixed(3))) },
    ];
    this.props.forEach(({ at, document }, i) => {
      const props: Array<[string, string]> = i === 0 && !first ? [...runProps] : [];
      if (many) props.push(['kunit-bridge.document', String(document)]);
      if (props.length > 0) insertions.push({ at, text: propertiesXml(props) });
    });
    return insertions;
  }
}

/** Render a whole run as a JUnit XML string with junit-report-builder (the same bytes as {@link JunitWriter}). */
function render(result: RunResult, options: ReportOptions = {}): string {
  const runName = options.runName ?? 'kunit-bridge';
  const builder = junitBuilder().newBuilder().name(cleanXmlText(runName));
  const ctx: JunitContext = { seen: new Map(), options, red: 0, suites: 0, totalSeconds: 0 };
  const crash = crashOutsideTests(result);
  let runProps: Array<[string, string]> | undefined = runProperties(result, crash);
  const many = result.documents.length > 1;
  const add = (s: SuiteXml): void => {
    const suite = builder.testSuite().name(s.name);
    for (const [key, value] of runProps ?? []) suite.property(key, value);
    runProps = undefined;
    if (many && s.document !== undefined) suite.property('kunit-bridge.document', String(s.document));
    for (const [key, value] of s.props) suite.property(key, value);
    for (const c of s.cases) buildCase(suite, c);
    suite.time(s.time);
  };
  for (const doc of result.documents) {
    const arch = archOf(result.groups, doc.origin);
    for (const top of doc.tests) suitesOf(ctx, arch ? [arch, top.name] : [top.name], top, doc.index).forEach(add);
  }
  const last = runSuite(ctx, result, crash, runName);
  if (last) add(last);
  // The builder always writes `skipped` on <testsuites>, and no `time`; neither schema allows
  // `skipped` there, consumers want `time`. `skipped` is the root's last attribute and the first
  // ` skipped="` in the file (an attribute value cannot hold a raw `"`).
  const time = Number(ctx.totalSeconds.toFixed(3));
  return `${builder.build().replace(/ skipped="\d+"/, ` time="${time}"`)}\n`;
}

/** One `<testcase>` through junit-report-builder; texts as escaped text, after the builder made the element. */
function buildCase(suite: TestSuite, c: CaseXml): void {
  const tc = suite.testCase().className(c.classname).name(c.name);
  tc.time(c.time);
  if (c.kind === 'failure') tc.failure(c.message ?? '', c.type);
  if (c.kind === 'error') tc.error(c.message ?? '', c.type);
  if (c.kind === 'skipped') tc.skipped();
  if (c.file !== undefined) tc.file(c.file);
  // Text bodies in `<skipped>`, `<failure>`, `<error>`, then `<system-out>` (Jenkins wants that order).
  const build = tc.build.bind(tc);
  tc.build = (parent) => {
    const el = build(parent);
    if (c.line !== undefined) el.att('line', String(c.line));
    if (c.body !== '') {
      for (const child of el.children) {
        const x = child as XmlElement;
        if (x.name === c.kind) x.txt(c.body);
      }
    }
    if (c.out !== '') el.ele('system-out', {}, c.out);
    return el;
  };
}

/** JUnit XML: one flat `<testsuite>` per suite path; valid against junit-10.xsd and Jenkins' junit-4.xsd. */
export const junitReporter: FileReporter = {
  ...catalogEntry('junit'),
  render,
  open: (sink, options, groups) => new JunitWriter(sink, options, groups),
};
