/**
 * The nesting stack and the tree it builds: open frames, finished tests,
 * documents, counts, diagnostics and the crash being held against a test.
 * Internal to the KTAP parser (parser.ts reads lines and decides; this
 * builds). Pure.
 */
import {
  countStatus, emptyCounts,
  type CrashInfo, type Diagnostic, type DiagnosticCode, type KtapDocument, type KtapEvent,
  type TestNode, type TestStatus, type Verdict,
} from './model.js';
import type { KtapLine } from './grammar.js';
import { Frame, newFrame, statusOf } from './frame.js';
import { failedOnItsOwn, RULES, verdictFor, worse } from './status.js';

/** Deepest nesting kept; deeper KTAP is logged, not nested (KUnit itself nests 3 deep). */
export const MAX_DEPTH = 64;

export interface PendingCrash {
  info: CrashInfo;
  frame: Frame;
  /** Length of the frame's pending log when the crash began (its trace follows). */
  logStart: number;
}

export class KtapTree {
  readonly emit: ((e: KtapEvent) => void) | undefined;
  readonly retain: boolean;
  readonly maxPerCode: number;
  stack: Frame[] = [];
  readonly documents: KtapDocument[] = [];
  readonly diagnostics: Diagnostic[] = [];
  readonly perCode = new Map<DiagnosticCode, number>();
  readonly counts = emptyCounts();
  docCount = 0;
  lineNo = 0;
  /** Printk (or arrival) time of the last line; NaN until known (a double field: no allocation per line). */
  time = NaN;
  crash: PendingCrash | undefined;
  runCrash: CrashInfo | undefined;
  /** The crash whose trace the following lines extend. */
  trace: CrashInfo | undefined;
  /** The worst status of the tests with children that failed on their own (status.ts failedOnItsOwn). */
  own: TestStatus | undefined;
  /** Set while {@link abandon} closes frames, so a filled plan does not close the document early. */
  abandoning = false;

  constructor(emit: ((e: KtapEvent) => void) | undefined, retain: boolean, maxPerCode: number) {
    this.emit = emit;
    this.retain = retain;
    this.maxPerCode = maxPerCode;
  }

  openDocument(k: Extract<KtapLine, { kind: 'version' }>, lineNo: number): void {
    const index = this.docCount++;
    const frame = newFrame('', k.indent, lineNo, this.knownTime(), true, index);
    frame.format = k.format;
    frame.version = k.version;
    this.stack = [frame];
    this.emit?.({ type: 'document-start', document: index, line: lineNo, format: k.format, version: k.version });
  }


  top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  /** The deepest open frame whose indent is at most `indent`. */
  frameFor(indent: number): Frame {
    for (let i = this.stack.length - 1; i > 0; i--) {
      if (this.stack[i]!.indent <= indent) return this.stack[i]!;
    }
    return this.stack[0]!;
  }

  pathOf(frame: Frame): string[] {
    const path: string[] = [];
    for (const f of this.stack) {
      if (!f.isDoc) path.push(f.node.name);
      if (f === frame) break;
    }
    return path;
  }

  /** Open a subtest frame; undefined (and a `too-deep` diagnostic) past {@link MAX_DEPTH}. */
  pushFrame(name: string, indent: number, lineNo: number): Frame | undefined {
    if (this.stack.length >= MAX_DEPTH) {
      this.diag('too-deep', `KTAP nested deeper than ${MAX_DEPTH} levels: the deeper lines are kept as log lines`, 'warning');
      return undefined;
    }
    const top = this.top();
    const frame = newFrame(name, indent, lineNo, this.knownTime(), false, top.docIndex);
    this.stack.push(frame);
    return frame;
  }

  started(frame: Frame): void {
    if (frame.started) return;
    frame.started = true;
    this.emit?.({ type: 'test-start', path: this.pathOf(frame), line: frame.node.line, time: frame.node.startTime });
  }

  /** Close (without result line) every frame deeper than `indent`, except the document. */
  popDeeperThan(indent: number, lineNo: number): void {
    while (this.stack.length > 1 && this.top().indent > indent) {
      // A frame that a shallower line leaves behind never got its result line.
      if (this.stack[this.stack.length - 2]!.indent >= indent && this.top().indent > indent) {
        this.closeMissing(lineNo);
      } else break;
    }
  }

  /** A document whose first line was indented turns out to be a suite: put a document under it. */
  insertImplicitDocument(): void {
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

  openDocumentIsDone(): boolean {
    if (this.stack.length !== 1) return false;
    const doc = this.stack[0]!;
    return doc.node.plan === undefined || doc.results >= doc.node.plan;
  }

  /** The current time, undefined when no line had one. */
  knownTime(): number | undefined {
    return this.time === this.time ? this.time : undefined;
  }

  finishNode(frame: Frame, node: TestNode, lineNo: number): void {
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
    if (!frame.isDoc || this.retain) frame.node.children.push(node);
    if (this.emit) {
      const path = this.pathOf(frame);
      path.push(node.name);
      this.emit({ type: 'test-end', path, test: node, document: frame.docIndex });
    }
    void lineNo;
    if (!this.abandoning && frame.isDoc && frame.node.plan !== undefined && frame.results >= frame.node.plan
      && this.stack.length === 1) {
      this.closeDocument(true);
    }
  }

  addLeaf(frame: Frame, r: Extract<KtapLine, { kind: 'result' }>, lineNo: number): void {
    this.checkNumber(frame, r.number);
    const node: TestNode = {
      name: r.name, status: statusOf(r.ok, r.directive), log: frame.pendingLog, children: [],
      attributes: {}, line: lineNo,
    };
    frame.pendingLog = [];
    if (r.number !== undefined) node.number = r.number;
    if (r.directive) node.directive = r.directive;
    if (r.reason) node.reason = r.reason;
    if (frame.lastTime === frame.lastTime) node.startTime = frame.lastTime;
    frame.applyPending(node);
    if (this.crash && this.crash.frame === frame) this.recovered();
    this.finishNode(frame, node, lineNo);
  }

  closeGroup(r: Extract<KtapLine, { kind: 'result' }>, lineNo: number): void {
    const frame = this.stack.pop()!;
    const parent = this.top();
    this.checkNumber(parent, r.number);
    const node = frame.node;
    if (frame.named && r.name !== '' && node.name !== r.name) {
      this.diag('name-mismatch', `subtest "${node.name}" ended by result line named "${r.name}"`, 'warning', frame);
    }
    if (r.name !== '') node.name = r.name;
    node.status = statusOf(r.ok, r.directive);
    if (node.status === 'pass' && node.children.length === 0 && !r.directive) node.status = 'no-tests';
    if (r.number !== undefined) node.number = r.number;
    if (r.directive) node.directive = r.directive;
    if (r.reason) node.reason = r.reason;
    node.line = lineNo;
    if (node.plan !== undefined && node.children.length !== node.plan) {
      this.diag('plan-mismatch', `"${node.name}" planned ${node.plan} tests but reported ${node.children.length}`, 'warning', frame);
    }
    for (const l of frame.pendingLog) node.log.push(l);
    for (const l of parent.pendingLog) node.log.push(l);
    parent.pendingLog = [];
    const stats = parent.stats?.name === node.name ? parent.stats.stats : frame.stats?.stats;
    if (stats) node.stats = stats;
    else if (parent.totals) node.stats = parent.totals;
    parent.stats = undefined;
    parent.totals = undefined;
    parent.applyPending(node);
    if (this.crash && (this.crash.frame === frame || this.crash.frame === parent)) this.recovered();
    this.finishNode(parent, node, lineNo);
  }

  /** The top frame never got its result line and the output moved on. */
  closeMissing(lineNo: number): void {
    const frame = this.stack.pop()!;
    const parent = this.top();
    const node = frame.node;
    if (node.name === '') node.name = `#${parent.results + 1}`;
    node.status = 'incomplete';
    node.reason = 'no result line';
    for (const l of frame.pendingLog) node.log.push(l);
    this.diag('missing-result', `"${node.name}" has no result line`, 'warning', frame);
    if (this.crash?.frame === frame) this.crash.frame = parent;
    this.finishNode(parent, node, lineNo);
  }

  checkNumber(frame: Frame, n: number | undefined): void {
    if (n !== undefined && n !== frame.results + 1) {
      this.diag('number-mismatch', `expected test number ${frame.results + 1}, found ${n}`, 'warning', frame);
    }
  }

  /** An Oops while a test ran, and then the test's own result line: the kernel recovered. */
  recovered(): void {
    const c = this.crash!;
    this.diag('oops-recovered', `"${c.info.reason}" during a test that then reported its own result`, 'info', c.frame);
    this.crash = undefined;
    this.trace = undefined;
  }

  /**
   * The document stops here (crash, end of input, timeout, a new document):
   * the running test gets `status`, open suites too, and the rest of every
   * plan is `not-run`.
   */
  abandon(status: TestStatus, crash?: CrashInfo, message?: string): void {
    const running: TestStatus = status === 'timeout' ? 'incomplete' : status;
    const logStart = this.crash?.logStart;
    const crashFrame = this.crash?.frame;
    let innermost = true;
    let blamed = false;
    this.abandoning = true;
    while (this.stack.length > 0) {
      const frame = this.top();
      const remaining = frame.node.plan !== undefined ? frame.node.plan - frame.results : 0;
      if (innermost && (frame.hint !== undefined || remaining > 0)) {
        const node: TestNode = {
          name: frame.hint ?? `#${frame.results + 1}`, status, log: frame.pendingLog, children: [],
          attributes: {}, line: this.lineNo, number: frame.results + 1,
        };
        if (frame === crashFrame && logStart !== undefined) node.log = frame.pendingLog.slice(0, logStart);
        if (crash) node.crash = crash;
        if (message) node.reason = message;
        if (frame.lastTime === frame.lastTime) node.startTime = frame.lastTime;
        frame.applyPending(node);
        frame.pendingLog = [];
        this.finishNode(frame, node, this.lineNo);
        blamed = true;
      }
      innermost = false;
      for (let k = frame.results + 1; frame.node.plan !== undefined && k <= frame.node.plan; k++) {
        const node: TestNode = { name: `#${k}`, number: k, status: 'not-run', log: [], children: [], attributes: {}, line: this.lineNo };
        this.finishNode(frame, node, this.lineNo);
      }
      if (frame.isDoc) {
        this.abandoning = false;
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
      this.finishNode(this.top(), node, this.lineNo);
    }
    this.abandoning = false;
  }

  closeDocument(complete: boolean): void {
    const frame = this.stack[0]!;
    // Close whatever is still open above the document as missing its result.
    while (this.stack.length > 1) this.closeMissing(this.lineNo);
    if (this.stack.length === 0) return;
    this.stack = [];
    this.crash = undefined;
    const doc: KtapDocument = {
      index: frame.docIndex,
      tests: frame.node.children,
      log: [...frame.node.log, ...frame.pendingLog],
      complete,
      startLine: frame.node.line,
      endLine: this.lineNo,
      attributes: frame.node.attributes,
    };
    if (frame.format) doc.format = frame.format;
    if (frame.version !== undefined) doc.version = frame.version;
    if (frame.node.plan !== undefined) doc.plan = frame.node.plan;
    if (frame.totals) doc.totals = frame.totals;
    if (complete && doc.plan === undefined && !frame.isDoc) doc.complete = true;
    if (this.retain) this.documents.push(doc);
    else this.documents.push({ ...doc, tests: [] });
    this.emit?.({ type: 'document-end', document: doc });
  }

  diag(code: DiagnosticCode, message: string, severity: Diagnostic['severity'], frame?: Frame): void {
    const n = (this.perCode.get(code) ?? 0) + 1;
    this.perCode.set(code, n);
    if (n > this.maxPerCode) return;
    const d: Diagnostic = { code, message, line: this.lineNo, severity };
    if (frame && !frame.isDoc) d.path = this.pathOf(frame).join('/');
    if (n === this.maxPerCode) d.message += ` (further "${code}" diagnostics not listed)`;
    this.diagnostics.push(d);
    this.emit?.({ type: 'diagnostic', diagnostic: d });
  }

  verdict(): Verdict {
    return verdictFor(this.counts, this.documents, this.docCount > 0, this.runCrash, this.own && RULES[this.own].effect);
  }
}
