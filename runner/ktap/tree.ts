/**
 * Stage 4 of 4: the tree builder. Pure, no I/O.
 *
 * Accepted input: one call per console line, after the console filter and
 * the grammar have read it — {@link TreeBuilder.line} for a line the
 * grammar classified, {@link TreeBuilder.foreign} for one foreign to the
 * open document, {@link TreeBuilder.crash} for a crash signature — and
 * {@link TreeBuilder.finish} at the end. Builds the documents and their
 * test trees with an explicit nesting stack, emits the events, counts, and
 * turns every anomaly into a diagnostic. All its state is private.
 *
 * Its mode:
 *
 *     outside      no document open: a version line opens one; a crash is the run's
 *     document     a document is open: lines build its tree
 *     crash-held   a crash report came while a test ran: the test ends `crashed`
 *                  unless its own result line follows (KUnit caught the fault)
 *     finished     {@link TreeBuilder.finish} was called
 *
 * Separately, a crash report's trace collects the following lines until
 * `---[ end trace`, or the next KTAP line.
 */
import {
  countStatus,
  emptyCounts,
  type CrashInfo,
  type Diagnostic,
  type DiagnosticCode,
  type KtapDocument,
  type KtapEvent,
  type RunResult,
  type TestNode,
  type TestStatus,
  type Verdict,
} from './model.js';
import type { KtapLine } from './grammar.js';
import { crashEnd, MAX_TRACE_LINES, type CrashStart } from './console-filter.js';
import type { DiagnosticList } from './diagnostics.js';
import { type Frame, closedGroup, documentOf, leafOf, newFrame, takeGroupLog } from './frame.js';
import { failedOnItsOwn, RULES, verdictFor, worse } from './status.js';

/** Deepest nesting kept; deeper KTAP is logged, not nested (KUnit itself nests 3 deep). */
export const MAX_DEPTH = 64;

/**
 * `not-run` placeholders (`#N`, one per planned test that never reported)
 * listed in one run beyond one per input line. A plan is a claim, not an
 * allocation: a frame whose missing tests would pass this budget gets one
 * placeholder `#a..#b` for all of them.
 */
export const LISTED_NOT_RUN = 10_000;

type Result = Extract<KtapLine, { kind: 'result' }>;
type Version = Extract<KtapLine, { kind: 'version' }>;
/** The builder's mode; `crash-held` carries the crash, the frame it is held against, and that frame's log length when it began. */
type Mode =
  | { readonly kind: 'outside' | 'document' | 'finished' }
  | { readonly kind: 'crash-held'; readonly info: CrashInfo; frame: Frame; readonly logStart: number };
const OUTSIDE: Mode = Object.freeze({ kind: 'outside' });
const DOCUMENT: Mode = Object.freeze({ kind: 'document' });
const FINISHED: Mode = Object.freeze({ kind: 'finished' });

/** How the input ended, when the caller knows better than end-of-file. */
export interface FinishOptions {
  /** `timeout`: the caller gave up waiting (stall timer); the running test is marked TIMEOUT. */
  status?: 'timeout' | 'incomplete';
  message?: string;
}

export interface BuilderOptions {
  /** Receives every event as it happens. */
  emit: ((e: KtapEvent) => void) | undefined;
  /** Emit `log` events (the `emit` callback, or undefined when they are off). */
  emitLog: ((e: KtapEvent) => void) | undefined;
  /** Keep the finished tree for the result. */
  retain: boolean;
  diagnostics: DiagnosticList;
}

export class TreeBuilder {
  private readonly emit: ((e: KtapEvent) => void) | undefined;
  private readonly emitLog: ((e: KtapEvent) => void) | undefined;
  private readonly retain: boolean;
  private readonly diags: DiagnosticList;
  private mode: Mode = OUTSIDE;
  /** The open frames: the document first (empty when outside). */
  private stack: Frame[] = [];
  private readonly documents: KtapDocument[] = [];
  private readonly counts = emptyCounts();
  private docCount = 0;
  /** The line being read (1-based). */
  private lineNo = 0;
  /** Printk (or arrival) time of the last line that had one; NaN until then. */
  private time = NaN;
  /** The crash seen outside any test (or the fatal one), for `RunResult.crash`. */
  private runCrash: CrashInfo | undefined;
  /** The crash whose trace the following lines extend. */
  private trace: CrashInfo | undefined;
  /** The worst status of the tests with children that failed on their own (status.ts failedOnItsOwn). */
  private own: TestStatus | undefined;
  /** The open document was indented: its tests are kept for `document-end` even without `retain`. */
  private keepDocTests = false;
  /** `not-run` placeholders made so far (see {@link LISTED_NOT_RUN}). */
  private placeholders = 0;

  constructor(options: BuilderOptions) {
    this.emit = options.emit;
    this.emitLog = options.emitLog;
    this.retain = options.retain;
    this.diags = options.diagnostics;
  }

  /** A KTAP document is open (the console filter reads its lines differently). */
  get inDocument(): boolean {
    return this.stack.length > 0;
  }

  // ---- the API: one call per line ----------------------------------------

  /**
   * A line the grammar classified as `k`; its body is `raw` from `from` on.
   * `time` is its printk or arrival time in seconds (NaN: none). Returns
   * true when the line began a document.
   */
  line(lineNo: number, time: number, k: KtapLine, raw: string, from: number): boolean {
    this.at(lineNo, time);
    if (this.trace !== undefined) {
      const body = raw.slice(from);
      const t = body.trimEnd();
      if (t !== '' && this.trace.trace.length < MAX_TRACE_LINES) this.trace.trace.push(t);
      if (crashEnd(body)) this.trace = undefined;
    }
    if (k.kind !== 'other') this.trace = undefined;
    const docs = this.docCount;
    if (this.mode.kind === 'outside') this.outside(k, raw.slice(from));
    else {
      switch (k.kind) {
        case 'version':
          this.onVersion(k);
          break;
        case 'subtest':
          this.onSubtest(k.name, k.indent);
          break;
        case 'plan':
          this.onPlan(k.count, k.indent);
          break;
        case 'result':
          this.onResult(k);
          break;
        case 'diag':
          this.onDiag(k.text, k.indent);
          break;
        case 'other':
          this.addLog(this.dedent(raw, from, k.indent), false);
          break;
      }
    }
    return this.docCount !== docs;
  }

  /** A line foreign to the open document: kept in the running test's log as it is. */
  foreign(lineNo: number, time: number, raw: string): void {
    this.at(lineNo, time);
    this.addLog(raw, false);
  }

  /** A line with a crash signature; `body` is the line after its prefixes. */
  crash(lineNo: number, time: number, body: string, signature: CrashStart): void {
    this.at(lineNo, time);
    const line = body.trim();
    if (this.mode.kind === 'outside' || this.documentIsDone()) {
      if (this.mode.kind !== 'outside') this.closeDocument(true);
      this.trace = this.crashOutsideTests(line, signature);
      return;
    }
    const top = this.top();
    top.pendingLog.push(line);
    let info: CrashInfo;
    if (this.mode.kind === 'crash-held') {
      info = this.mode.info;
      if (info.trace.length < MAX_TRACE_LINES) info.trace.push(line);
    } else {
      info = { reason: line, kind: signature.kind, trace: [line], line: lineNo };
      this.mode = { kind: 'crash-held', info, frame: top, logStart: top.pendingLog.length - 1 };
      this.emit?.({ type: 'crash', path: this.pathOf(top), crash: info });
    }
    this.trace = info;
    if (signature.fatal) {
      this.diag('crash', `kernel crashed: ${info.reason}`, 'error', top);
      this.abandon('crashed', info);
      this.fatalCrashInTest(info);
    }
  }

  /** End of input: close what is open and return the result. */
  finish(options: FinishOptions = {}): RunResult {
    if (this.mode.kind === 'finished') throw new Error('TreeBuilder.finish() called twice');
    if (this.mode.kind === 'crash-held') {
      this.abandon('crashed', this.mode.info);
    } else if (this.mode.kind === 'document') {
      if (this.documentIsDone()) this.closeDocument(true);
      else {
        const status = options.status ?? 'incomplete';
        const message = options.message ?? 'output ended before the test finished';
        this.diag('incomplete-output', message, 'error');
        this.abandon(status, undefined, message);
      }
    }
    if (this.documents.length === 0 && this.docCount === 0) {
      this.diag('no-ktap', 'no KTAP found: no "KTAP version" or "TAP version" line in the input', 'error');
    }
    this.mode = FINISHED;
    const result: RunResult = {
      documents: this.documents,
      diagnostics: this.diags.list,
      counts: this.counts,
      verdict: this.verdict(),
      lines: this.lineNo,
      metadata: {},
    };
    if (this.runCrash) result.crash = this.runCrash;
    return result;
  }

  // ---- crashes: what becomes the run's crash is decided here ---------------

  /**
   * A crash signature where no test runs (before, between or after the
   * documents, or once the open one has all its results): the run's crash,
   * `RunResult.crash`; a later signature outside tests adds to its trace.
   * Returns the crash the following lines extend.
   */
  private crashOutsideTests(line: string, signature: CrashStart): CrashInfo {
    if (this.runCrash === undefined) {
      this.runCrash = { reason: line, kind: signature.kind, trace: [line], line: this.lineNo };
    } else if (this.runCrash.trace.length < MAX_TRACE_LINES) {
      this.runCrash.trace.push(line);
    }
    return this.runCrash;
  }

  /** A fatal crash (a panic) while a test ran: the test's crash, and the run's when it had none. */
  private fatalCrashInTest(info: CrashInfo): void {
    this.runCrash ??= info;
  }

  // ---- lines outside any document ------------------------------------------

  private outside(k: KtapLine, body: string): void {
    if (k.kind === 'version') this.openDocument(k);
    else if (body.includes('kunit executor: ')) this.diag('unexpected-line', body.trim(), 'error');
  }

  // ---- KTAP lines in a document ----------------------------------------------

  private onVersion(k: Version): void {
    const doc = this.stack[0]!;
    const top = this.top();
    // A new document: at or left of this one's indent; for suites printed on their
    // own (debugfs re-runs), each one that starts when nothing is open.
    const newDoc =
      k.indent <= doc.indent ||
      (doc.childIndent !== undefined && (k.indent < doc.childIndent || (k.indent === doc.childIndent && this.stack.length === 1)));
    if (newDoc) {
      if (this.mode.kind === 'crash-held') this.abandon('crashed', this.mode.info);
      else if (this.documentIsDone()) this.closeDocument(true);
      else {
        this.diag('incomplete-output', 'a new KTAP document started before this one finished', 'error');
        this.abandon('incomplete', undefined, 'a new KTAP document started before this test finished');
      }
      this.openDocument(k);
      return;
    }
    if (k.indent === top.indent && !top.isDoc && top.results === 0 && top.node.plan === undefined) return;
    this.popDeeperThan(k.indent);
    // Closing frames without result lines may have completed (and closed) the document.
    if (this.stack.length === 0) this.openDocument(k);
    else this.pushFrame('', k.indent);
  }

  private onSubtest(name: string, indent: number): void {
    this.popDeeperThan(indent);
    if (this.stack.length === 0) return;
    // `    KTAP version 1` + `    # Subtest: x` with nothing above: a suite printed
    // on its own (a debugfs re-run), not an indented document.
    if (this.stack.length === 1 && this.top().indent > 0 && this.top().indent === indent && this.top().results === 0) {
      this.insertImplicitDocument();
    }
    const top = this.top();
    if (top.indent === indent && !top.named && top.results === 0) {
      top.named = true;
      top.node.name = name;
      if (!top.isDoc) this.started(top);
      return;
    }
    const frame = this.pushFrame(name, Math.max(indent, top.indent + 1));
    if (frame === undefined) {
      this.addLog(`# Subtest: ${name}`, false);
      return;
    }
    frame.named = true;
    this.started(frame);
  }

  private onPlan(count: number, indent: number): void {
    this.popDeeperThan(indent);
    if (this.stack.length === 0) return;
    let top = this.top();
    if (indent > top.indent) {
      const frame = this.pushFrame('', indent);
      if (frame === undefined) {
        this.addLog(`1..${count}`, false);
        return;
      }
      top = frame;
    }
    if (top.node.plan !== undefined) {
      this.diag('duplicate-plan', `second plan 1..${count} (already 1..${top.node.plan})`, 'warning', top);
      return;
    }
    top.node.plan = count;
    if (!top.isDoc) this.started(top);
    this.emit?.({ type: 'plan', path: this.pathOf(top), count, line: this.lineNo });
    if (top.isDoc && count === 0) this.closeDocument(true);
  }

  private onResult(r: Result): void {
    for (;;) {
      // Closing frames without result lines may have completed (and closed) the document.
      if (this.stack.length === 0) return;
      const top = this.top();
      if (top.indent <= r.indent) {
        this.addLeaf(top, r);
        return;
      }
      if (this.stack.length === 1) this.insertImplicitDocument();
      const parent = this.stack[this.stack.length - 2]!;
      if (parent.indent <= r.indent) {
        this.closeGroup(r);
        return;
      }
      this.closeMissing();
    }
  }

  private onDiag(text: string, indent: number): void {
    const frame = this.frameFor(indent);
    if (frame.diagnostic(text)) {
      this.emitLog?.({ type: 'log', path: this.pathOf(frame), text, line: this.lineNo, diagnostic: true });
    }
  }

  /** Drop the enclosing test's indentation from a continuation line (its body starts at `from`). */
  private dedent(line: string, from: number, indent: number): string {
    const cut = Math.min(indent, Math.max(0, this.top().indent));
    let i = from;
    for (let w = 0; i < line.length && w < cut; i++) w += line.charCodeAt(i) === 0x09 ? 4 : 1;
    return line.slice(i).trimEnd();
  }

  /** A log line for the test running at the top of the stack (none outside documents). */
  private addLog(text: string, diagnostic: boolean): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return;
    top.pendingLog.push(text);
    this.emitLog?.({ type: 'log', path: this.pathOf(top), text, line: this.lineNo, diagnostic });
  }

  // ---- the nesting stack -----------------------------------------------------

  private at(lineNo: number, time: number): void {
    this.lineNo = lineNo;
    if (time === time) this.time = time;
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  /** The deepest open frame whose indent is at most `indent`. */
  private frameFor(indent: number): Frame {
    for (let i = this.stack.length - 1; i > 0; i--) {
      if (this.stack[i]!.indent <= indent) return this.stack[i]!;
    }
    return this.stack[0]!;
  }

  private pathOf(frame: Frame): string[] {
    const path: string[] = [];
    for (const f of this.stack) {
      if (!f.isDoc) path.push(f.node.name);
      if (f === frame) break;
    }
    return path;
  }

  /** The current time, undefined when no line had one. */
  private knownTime(): number | undefined {
    return this.time === this.time ? this.time : undefined;
  }

  private openDocument(k: Version): void {
    const index = this.docCount++;
    const frame = newFrame('', k.indent, this.lineNo, this.knownTime(), true, index);
    frame.format = k.format;
    frame.version = k.version;
    this.stack = [frame];
    this.mode = DOCUMENT;
    // An indented document may turn out to be a suite (insertImplicitDocument): keep its tests until its end.
    this.keepDocTests = k.indent > 0;
    this.emit?.({ type: 'document-start', document: index, line: this.lineNo, format: k.format, version: k.version, indent: k.indent });
  }

  /** Open a subtest frame; undefined (and a `too-deep` diagnostic) past {@link MAX_DEPTH}. */
  private pushFrame(name: string, indent: number): Frame | undefined {
    if (this.stack.length >= MAX_DEPTH) {
      this.diag('too-deep', `KTAP nested deeper than ${MAX_DEPTH} levels: the deeper lines are kept as log lines`, 'warning');
      return undefined;
    }
    const frame = newFrame(name, indent, this.lineNo, this.knownTime(), false, this.top().docIndex);
    this.stack.push(frame);
    return frame;
  }

  private started(frame: Frame): void {
    if (frame.started) return;
    frame.started = true;
    this.emit?.({ type: 'test-start', path: this.pathOf(frame), line: frame.node.line, time: frame.node.startTime });
  }

  /** Close (without result line) every frame deeper than `indent`, except the document. */
  private popDeeperThan(indent: number): void {
    // A frame that a shallower line leaves behind never got its result line.
    while (this.stack.length > 1 && this.top().indent > indent && this.stack[this.stack.length - 2]!.indent >= indent) {
      this.closeMissing();
    }
  }

  /** A document whose first line was indented turns out to be a suite: put a document under it. */
  private insertImplicitDocument(): void {
    const old = this.stack[0]!;
    const doc = newFrame('', -1, old.node.line, old.node.startTime, true, old.docIndex);
    doc.format = old.format;
    doc.version = old.version;
    doc.childIndent = old.indent;
    old.isDoc = false;
    old.format = undefined;
    old.version = undefined;
    this.stack.unshift(doc);
    if (old.named) this.started(old);
  }

  /** Only the document is open and its plan (if any) is filled. */
  private documentIsDone(): boolean {
    if (this.stack.length !== 1) return false;
    const doc = this.stack[0]!;
    return doc.node.plan === undefined || doc.results >= doc.node.plan;
  }

  /**
   * `node` finished under `frame`: timed, counted, kept, emitted. A document
   * whose plan this fills is closed, unless `closing` (it is being closed).
   */
  private finishNode(frame: Frame, node: TestNode, closing = false): void {
    const time = this.time;
    node.endTime = this.knownTime();
    if (time === time && node.startTime !== undefined) {
      node.durationMs = Math.round((time - node.startTime) * 1e6) / 1e3;
    }
    if (node.children.length === 0) countStatus(this.counts, node.status);
    else if (failedOnItsOwn(node)) this.own = worse(this.own ?? node.status, node.status);
    frame.results++;
    frame.lastTime = time;
    frame.hint = undefined;
    if (!frame.isDoc || this.retain || this.keepDocTests) frame.node.children.push(node);
    if (this.emit) {
      const path = this.pathOf(frame);
      path.push(node.name);
      this.emit({ type: 'test-end', path, test: node, document: frame.docIndex });
    }
    if (!closing && frame.isDoc && frame.node.plan !== undefined && frame.results >= frame.node.plan && this.stack.length === 1) {
      this.closeDocument(true);
    }
  }

  private addLeaf(frame: Frame, r: Result): void {
    this.checkNumber(frame, r.number);
    const node = leafOf(frame, r, this.lineNo);
    if (this.mode.kind === 'crash-held' && this.mode.frame === frame) this.recovered(this.mode);
    this.finishNode(frame, node);
  }

  private closeGroup(r: Result): void {
    const frame = this.stack.pop()!;
    const parent = this.top();
    this.checkNumber(parent, r.number);
    if (frame.named && r.name !== '' && frame.node.name !== r.name) {
      this.diag('name-mismatch', `subtest "${frame.node.name}" ended by result line named "${r.name}"`, 'warning', frame);
    }
    const node = closedGroup(frame, r, this.lineNo);
    if (node.plan !== undefined && node.children.length !== node.plan) {
      this.diag('plan-mismatch', `"${node.name}" planned ${node.plan} tests but reported ${node.children.length}`, 'warning', frame);
    }
    takeGroupLog(frame, parent, node);
    const m = this.mode;
    if (m.kind === 'crash-held' && (m.frame === frame || m.frame === parent)) this.recovered(m);
    this.finishNode(parent, node);
  }

  /** The top frame never got its result line and the output moved on. */
  private closeMissing(): void {
    const frame = this.stack.pop()!;
    const parent = this.top();
    const node = frame.node;
    if (node.name === '') node.name = `#${parent.results + 1}`;
    node.status = 'incomplete';
    node.reason = 'no result line';
    for (const l of frame.pendingLog) node.log.push(l);
    this.diag('missing-result', `"${node.name}" has no result line`, 'warning', frame);
    if (this.mode.kind === 'crash-held' && this.mode.frame === frame) this.mode.frame = parent;
    this.finishNode(parent, node);
  }

  private checkNumber(frame: Frame, n: number | undefined): void {
    if (n !== undefined && n !== frame.results + 1) {
      this.diag('number-mismatch', `expected test number ${frame.results + 1}, found ${n}`, 'warning', frame);
    }
  }

  /** An Oops while a test ran, and then the test's own result line: the kernel recovered. */
  private recovered(held: Extract<Mode, { kind: 'crash-held' }>): void {
    this.diag('oops-recovered', `"${held.info.reason}" during a test that then reported its own result`, 'info', held.frame);
    this.mode = DOCUMENT;
  }

  /**
   * The document stops here (crash, end of input, timeout, a new document):
   * the running test gets `status`, open suites too, and the rest of every
   * plan is `not-run`.
   */
  private abandon(status: TestStatus, crash?: CrashInfo, message?: string): void {
    const running: TestStatus = status === 'timeout' ? 'incomplete' : status;
    const held = this.mode.kind === 'crash-held' ? this.mode : undefined;
    let innermost = true;
    let blamed = false;
    while (this.stack.length > 0) {
      const frame = this.top();
      const remaining = frame.node.plan !== undefined ? frame.node.plan - frame.results : 0;
      if (innermost && (frame.hint !== undefined || remaining > 0)) {
        const node: TestNode = {
          name: frame.hint ?? `#${frame.results + 1}`,
          status,
          log: frame.pendingLog,
          children: [],
          attributes: {},
          line: this.lineNo,
          number: frame.results + 1,
        };
        // The crash report's own lines are in its trace.
        if (frame === held?.frame) node.log = frame.pendingLog.slice(0, held.logStart);
        if (crash) node.crash = crash;
        if (message) node.reason = message;
        if (frame.lastTime === frame.lastTime) node.startTime = frame.lastTime;
        frame.applyPending(node);
        frame.pendingLog = [];
        this.finishNode(frame, node, true);
        blamed = true;
      }
      innermost = false;
      this.notRun(frame);
      if (frame.isDoc) {
        this.closeDocument(false);
        return;
      }
      this.stack.pop();
      const node = frame.node;
      if (node.name === '') node.name = `#${this.top().results + 1}`;
      node.status = blamed ? running : status;
      blamed = true;
      if (crash) node.crash = crash;
      for (const l of frame.pendingLog) node.log.push(l);
      this.finishNode(this.top(), node, true);
    }
  }

  /**
   * The rest of `frame`'s plan never reported: a `not-run` placeholder `#N`
   * for each, or — past {@link LISTED_NOT_RUN} plus one per input line in
   * the run — one placeholder `#a..#b` for them all, with a diagnostic.
   */
  private notRun(frame: Frame): void {
    const plan = frame.node.plan;
    if (plan === undefined || frame.results >= plan) return;
    const missing = plan - frame.results;
    if (this.placeholders + missing <= LISTED_NOT_RUN + this.lineNo) {
      this.placeholders += missing;
      for (let k = frame.results + 1; k <= plan; k++) {
        const node: TestNode = { name: `#${k}`, number: k, status: 'not-run', log: [], children: [], attributes: {}, line: this.lineNo };
        this.finishNode(frame, node, true);
      }
      return;
    }
    const first = frame.results + 1;
    this.placeholders++;
    this.diag(
      'plan-unreported',
      `plan 1..${plan}: tests ${first} to ${plan} (${missing}) never reported; listed as one not-run entry`,
      'warning',
      frame,
    );
    const node: TestNode = {
      name: `#${first}..#${plan}`,
      number: first,
      status: 'not-run',
      log: [],
      children: [],
      attributes: {},
      line: this.lineNo,
      reason: `${missing} planned tests never reported`,
    };
    this.finishNode(frame, node, true);
  }

  private closeDocument(complete: boolean): void {
    // Close whatever is still open above the document as missing its result.
    while (this.stack.length > 1) this.closeMissing();
    if (this.stack.length === 0) return;
    const doc = documentOf(this.stack[0]!, complete, this.lineNo);
    this.stack = [];
    this.mode = OUTSIDE;
    if (this.retain) this.documents.push(doc);
    else this.documents.push({ ...doc, tests: [] });
    this.emit?.({ type: 'document-end', document: doc });
  }

  /**
   * A diagnostic about `frame`'s test. Its path is looked up in the stack; a
   * frame already popped gets its parent's path.
   */
  private diag(code: DiagnosticCode, message: string, severity: Diagnostic['severity'], frame?: Frame): void {
    this.diags.add(
      code,
      message,
      severity,
      this.lineNo,
      frame === undefined || frame.isDoc ? undefined : () => this.pathOf(frame).join('/'),
    );
  }

  private verdict(): Verdict {
    return verdictFor(this.counts, this.documents, this.docCount > 0, this.runCrash, this.own && RULES[this.own].effect);
  }
}
