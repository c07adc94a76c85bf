/**
 * TAP 14 reporter (`--tap FILE`).
 *
 * One stream for the whole run: its top-level tests are every document's
 * top-level suites, in order. A test with children is a TAP 14 commented
 * subtest: an indented `# Subtest: name`, the 4-space indented body (its own
 * log as comments, `1..N`, its children), then the parent's test point.
 * A leaf's log lines are `# ` comments just before its test point.
 *
 * How KUnit statuses map, chosen so TAP 14 consumers (tap-parser, node-tap,
 * prove) count honestly — only two directives exist, SKIP and TODO:
 *
 * | status                              | line                                   | counts as   |
 * |-------------------------------------|----------------------------------------|-------------|
 * | pass                                | `ok N - name`                          | pass        |
 * | xfail                               | `ok N - name` + YAML `status: xfail`   | pass (as KUnit counts it) |
 * | fail                                | `not ok N - name` (+ YAML `at:` if located) | failure |
 * | skip                                | `ok N - name # SKIP reason`            | skip        |
 * | todo                                | `not ok N - name # TODO reason`        | todo, never a failure |
 * | not-run                             | `ok N - name # SKIP not run: …` + YAML | skip        |
 * | timeout, error, crashed, incomplete | `not ok N - name` + YAML block         | failure     |
 * | no-tests                            | subtest with `1..0 # no tests`, `ok N - name # SKIP no tests` | not a leaf |
 *
 * xfail is not written as `# TODO`: consumers would count it as todo, not as
 * the pass KUnit records. not-run is a `# SKIP`: not a failure of its own (the
 * crash before it is), and tap-parser counts every `not ok` in `fail`, with
 * `# SKIP` or not.
 * Names and directive reasons escape `\` as `\\` and `#` as `\#`; YAML values
 * are double-quoted JSON strings.
 *
 * The stream's verdict is the exit code's: a run that did not pass and has no
 * failing test point (no KTAP, no tests ran, cut short with nothing failed, a
 * kernel crash outside any test) ends with `Bail out! <why>`. The kernel's
 * normal end after its tests (a `No working init found` panic) is a comment.
 */
import type { CrashInfo, DocumentOrigin, KtapDocument, RunGroup, RunResult, TestNode } from '../runner/ktap/model.js';
import { attemptsLine } from '../runner/ktap/model.js';
import { knownLabel } from '../runner/gate/outcome.js';
import { isNormalEnd, isShownFailing, verdictReason } from '../runner/ktap/status.js';
import { renderStreamed, TestCrashes } from './stream.js';
import type { FileReporter, Insertion, ReportSink, ReportWriter } from './types.js';
import { catalogEntry } from './catalog.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b\n]*(?:\x1b\\)?|\x1b[ -/]*[0-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\x00-\x1f\x7f]/;

/** One line of plain text: no ANSI sequences, no control characters, no line breaks. */
function oneLine(text: string): string {
  // Most lines have nothing to remove: one scan instead of three replaces.
  if (!ANY_CONTROL.test(text)) return text;
  return text
    .replace(ANSI, '')
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(CONTROL, '');
}

/** Escape for a test point's description or directive: `\` → `\\`, `#` → `\#`. */
export function escapeTap(text: string): string {
  return oneLine(text).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

/** A `# ` comment line that no parser can mistake for a `# Subtest:` header. */
function comment(pad: string, text: string): string {
  const body = oneLine(text).replace(/^(\s*)Subtest\b/, '$1 Subtest');
  return `${pad}# ${body}`.trimEnd();
}

const yamlString = (s: string): string => JSON.stringify(oneLine(s));

const NOT_RUN = 'not run: the run ended before this test';

/** The YAML diagnostic lines for a test, or none. */
function yaml(node: TestNode): string[] {
  const out: string[] = [];
  const crash: CrashInfo | undefined = node.crash;
  switch (node.status) {
    case 'xfail':
    case 'not-run':
    case 'timeout':
    case 'error':
    case 'incomplete':
    case 'crashed':
      out.push(`status: ${node.status}`);
      break;
    case 'fail':
      // A failing Rust doctest: say where it is, as node-tap does (`at:`).
      if (node.location) out.push('status: fail');
      else return out;
      break;
    default:
      return out;
  }
  let reason = node.reason;
  if (node.status === 'crashed') reason = crash?.reason ?? reason;
  if (node.status === 'incomplete') reason ??= 'no result: output ended before this test finished';
  if (node.status === 'timeout') reason ??= 'timed out';
  if (node.status === 'not-run') reason = NOT_RUN;
  if (reason) out.push(`reason: ${yamlString(reason)}`);
  if (node.durationMs !== undefined) out.push(`duration_ms: ${node.durationMs}`);
  if (node.location) {
    out.push('at:', `  file: ${yamlString(node.location.file)}`, `  line: ${node.location.line}`);
  }
  if (node.status === 'crashed' && crash) {
    out.push(`crash_kind: ${crash.kind}`, `crash_line: ${crash.line}`);
    if (crash.trace.length > 0) {
      out.push('trace:', ...crash.trace.map((l) => `  - ${yamlString(l)}`));
    }
  }
  return out;
}

/** The test point line for a node (without YAML). */
function testPoint(node: TestNode, n: number): string {
  const name = escapeTap(node.name);
  const head = (ok: boolean): string => `${ok ? 'ok' : 'not ok'} ${n}${name ? ` - ${name}` : ''}`;
  const directive = (kind: 'SKIP' | 'TODO', reason: string | undefined): string =>
    reason ? ` # ${kind} ${escapeTap(reason)}` : ` # ${kind}`;
  // A known failure (`--known`): TODO is TAP's own "known not to work yet", never a failure.
  if (node.known) return head(false) + directive('TODO', `known: ${knownLabel(node.known)}`);
  switch (node.status) {
    case 'pass':
    case 'xfail':
      return head(true);
    case 'skip':
      return head(true) + directive('SKIP', node.reason);
    case 'no-tests':
      return head(true) + directive('SKIP', 'no tests');
    case 'todo':
      return head(false) + directive('TODO', node.reason);
    case 'not-run':
      return head(true) + directive('SKIP', NOT_RUN);
    case 'fail':
    case 'timeout':
    case 'error':
    case 'crashed':
    case 'incomplete':
      return head(false);
  }
}

/** Append one test (and, for a subtest, its whole body) at `pad`. */
function writeNode(lines: string[], node: TestNode, n: number, pad: string): void {
  if (node.children.length > 0 || node.status === 'no-tests') {
    const inner = `${pad}    `;
    lines.push(`${inner}# Subtest: ${oneLine(node.name)}`.trimEnd());
    for (const l of node.log) lines.push(comment(inner, l));
    lines.push(node.children.length > 0 ? `${inner}1..${node.children.length}` : `${inner}1..0 # no tests`);
    node.children.forEach((child, i) => writeNode(lines, child, i + 1, inner));
  } else {
    for (const l of node.log) lines.push(comment(pad, l));
    // run --repeat: every attempt's outcome, before the test point whose status is the worst of them.
    const attempts = attemptsLine(node);
    if (attempts) lines.push(comment(pad, attempts));
  }
  lines.push(pad + testPoint(node, n));
  const diag = yaml(node);
  if (diag.length > 0) {
    lines.push(`${pad}  ---`, ...diag.map((d) => `${pad}  ${d}`), `${pad}  ...`);
  }
}

/** Does any leaf under these tests fail (a `not ok` without directive)? */
function anyFailing(tests: readonly TestNode[]): boolean {
  return tests.some((t) => (t.children.length === 0 ? isShownFailing(t.status) : anyFailing(t.children)));
}

/** One TAP 14 stream for the whole run, written test by test; `TAP version 14` and the plan go in at the start. */
class TapWriter implements ReportWriter {
  private readonly crashes = new TestCrashes();
  /** A merge of several architectures/kernels: a comment line where each group begins. */
  private readonly groups: readonly RunGroup[] | undefined;
  private group: number | undefined;
  private n = 0;
  private failing = false;

  constructor(
    private readonly sink: ReportSink,
    groups: readonly RunGroup[] | undefined,
  ) {
    this.groups = groups && groups.length > 1 ? groups : undefined;
  }

  private lines(lines: string[]): void {
    if (lines.length > 0) this.sink.write(`${lines.join('\n')}\n`);
  }

  startDocument(_index: number, origin: DocumentOrigin | undefined): void {
    if (this.groups && origin?.group !== undefined && origin.group !== this.group) {
      this.group = origin.group;
      this.lines([comment('', `group: ${this.groups[this.group]?.name ?? this.group}`)]);
    }
  }

  test(node: TestNode): void {
    this.crashes.see(node);
    if (!this.failing) this.failing = anyFailing([node]);
    const lines: string[] = [];
    writeNode(lines, node, ++this.n, '');
    this.lines(lines);
  }

  endDocument(doc: KtapDocument): void {
    this.lines(doc.log.map((l) => comment('', l)));
  }

  finish(result: RunResult): Insertion[] {
    const lines: string[] = [];
    const crash = this.crashes.outside(result);
    if (crash) {
      lines.push(
        comment(
          '',
          isNormalEnd(crash)
            ? `kernel stopped after the tests (its normal end): ${crash.reason}`
            : `kernel crash outside any test: ${crash.reason}`,
        ),
      );
      for (const l of crash.trace.slice(1)) lines.push(comment('', l));
    }
    // A run that did not pass, with no failing test point to say so.
    const why = verdictReason(result);
    if (why !== undefined && !this.failing) lines.push(`Bail out! ${oneLine(why)}`);
    this.lines(lines);
    // tap-parser ends the stream at a plan of `1..0`, green: a run with no tests at all bails out instead.
    return [{ at: 0, text: `TAP version 14\n${this.n > 0 ? `1..${this.n}\n` : ''}` }];
  }
}

/** TAP 14: nested subtests, SKIP/TODO directives, YAML diagnostics for crashes and timeouts. */
export const tapReporter: FileReporter = {
  ...catalogEntry('tap'),
  render: (result) => renderStreamed((sink) => new TapWriter(sink, result.groups), result),
  open: (sink, _options, groups) => new TapWriter(sink, groups),
};
