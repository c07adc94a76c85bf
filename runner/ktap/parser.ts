/**
 * Stage 3 of 3: the KTAP grammar with an explicit nesting stack. Pure: lines
 * in, typed events out (through a callback), the finished tree at the end.
 *
 * Accepted format: a kernel console log holding zero or more KTAP documents,
 * e.g.
 *
 *     [    0.66] KTAP version 1
 *     [    0.66] 1..2
 *     [    0.66]     KTAP version 1
 *     [    0.66]     # Subtest: example
 *     [    0.66]     1..1
 *     [    0.67] random: crng init done             <- unrelated, kept in the log
 *     [    0.67]     ok 1 example_simple_test
 *     [    0.67] ok 1 example
 *     [    0.68] Kernel panic - not syncing: ...    <- crash: test 2 crashed
 *
 * Nesting follows indentation; `# Subtest:`, `KTAP version` and plan lines
 * open subtests, result lines close them. Every anomaly becomes a
 * {@link Diagnostic}; nothing here throws on bad input.
 */
import { classify, parseLocation, parseStats, SUITE_ATTRIBUTES, type KtapLine } from './grammar.js';
import { crashEnd, crashStart, MAX_TRACE_LINES, PrintkScanner } from './console-filter.js';
import type { LineInfo } from './line-splitter.js';
import {
  countStatus, emptyCounts,
  type CrashInfo, type Diagnostic, type DiagnosticCode, type KtapDocument, type KtapEvent,
  type RunResult, type TestNode, type TestStatus, type Verdict,
} from './model.js';
import { Frame, newFrame, statusOf } from './frame.js';

export interface ParserOptions {
  /** Receives every event as it happens. */
  onEvent?: (event: KtapEvent) => void;
  /** Keep the finished tree for {@link KtapParser.finish} (default true). */
  retain?: boolean;
  /** Diagnostics kept per code before they are only counted (default 50). */
  maxDiagnosticsPerCode?: number;
  /**
   * Emit `log` events (default true). Turn off when no listener reads them:
   * one event per log line is most of the parser's allocations.
   */
  logEvents?: boolean;
}

/** How the input ended, when the caller knows better than end-of-file. */
export interface FinishOptions {
  /** `timeout`: the caller gave up waiting (stall timer); the running test is marked TIMEOUT. */
  status?: 'timeout' | 'incomplete';
  message?: string;
}

interface PendingCrash {
  info: CrashInfo;
  frame: Frame;
  /** Length of the frame's pending log when the crash began (its trace follows). */
  logStart: number;
}

export class KtapParser {
  private readonly emit: ((e: KtapEvent) => void) | undefined;
  /** {@link emit}, or undefined when `log` events are off. */
  private readonly emitLog: ((e: KtapEvent) => void) | undefined;
  private readonly scanner = new PrintkScanner();
  private readonly retain: boolean;
  private readonly maxPerCode: number;
  private stack: Frame[] = [];
  private readonly documents: KtapDocument[] = [];
  private readonly diagnostics: Diagnostic[] = [];
  private readonly perCode = new Map<DiagnosticCode, number>();
  private readonly counts = emptyCounts();
  private docCount = 0;
  private lineNo = 0;
  /** Printk (or arrival) time of the last line; NaN until known (a double field: no allocation per line). */
  private time = NaN;
  private crash: PendingCrash | undefined;
  private runCrash: CrashInfo | undefined;
  private trace: CrashInfo | undefined;
  /** Non-whitespace text before `KTAP version` in the current document. */
  private prefix = '';
  /** The current document's lines carry a printk prefix. */
  private printkDoc = false;
  /** Some document in this log had printk prefixes. */
  private sawPrintkDoc = false;
  private finished: RunResult | undefined;
  /** Set while {@link abandon} closes frames, so a filled plan does not close the document early. */
  private abandoning = false;

  constructor(options: ParserOptions = {}) {
    this.emit = options.onEvent;
    this.emitLog = options.logEvents === false ? undefined : options.onEvent;
    this.retain = options.retain ?? true;
    this.maxPerCode = options.maxDiagnosticsPerCode ?? 50;
  }

  /**
   * Feed one line (no newline). `arrivalMs` is the caller's clock for this
   * line (e.g. when it came off the serial port), used for durations when
   * the line has no printk timestamp.
   */
  push(raw: string, info?: LineInfo, arrivalMs?: number): void {
    if (this.finished) throw new Error('KtapParser.push() after finish()');
    const lineNo = ++this.lineNo;
    if (info !== undefined) {
      if (info.truncatedFrom !== undefined) {
        this.diag('line-truncated', `line of ${info.truncatedFrom} bytes cut to its first bytes`, 'warning');
      }
      if (info.invalidUtf8) this.diag('invalid-utf8', 'invalid UTF-8 replaced by U+FFFD', 'info');
    }
    // The body is raw from `from` on; it is sliced out only where its text is needed.
    const sc = this.scanner;
    const printk = sc.scan(raw);
    let from = sc.end;
    if (sc.time === sc.time) this.time = sc.time;
    else if (arrivalMs !== undefined) this.time = arrivalMs / 1000;
    let foreign = false;
    if (this.stack.length > 0) {
      if (this.printkDoc && !printk) foreign = true;
      else if (this.prefix !== '') {
        if (raw.startsWith(this.prefix, from)) from += this.prefix.length;
        else foreign = true;
      }
    }
    const cs = foreign ? undefined : crashStart(raw, from);
    if (cs !== undefined) {
      this.onCrash(raw.slice(from), cs.kind, cs.fatal, lineNo);
      return;
    }
    if (this.trace !== undefined && !foreign) {
      const body = raw.slice(from);
      const t = body.trimEnd();
      if (t !== '' && this.trace.trace.length < MAX_TRACE_LINES) this.trace.trace.push(t);
      if (crashEnd(body)) this.trace = undefined;
    }
    if (foreign) {
      this.addOther(raw, lineNo);
      return;
    }
    const k = classify(raw, from);
    if (k.kind !== 'other') this.trace = undefined;
    if (this.stack.length === 0) {
      this.outside(raw.slice(from), k, lineNo, printk);
      return;
    }
    switch (k.kind) {
      case 'version': this.onVersion(k, lineNo, printk); break;
      case 'subtest': this.onSubtest(k.name, k.indent, lineNo); break;
      case 'plan': this.onPlan(k.count, k.indent, lineNo); break;
      case 'result': this.onResult(k, lineNo); break;
      case 'diag': this.onDiag(k.text, k.indent, lineNo); break;
      case 'other': this.addOther(this.dedent(raw, from, k.indent), lineNo); break;
    }
  }

  /** End of input: close what is open and return the result. Idempotent. */
  finish(options: FinishOptions = {}): RunResult {
    if (this.finished) return this.finished;
    if (this.stack.length > 0) {
      if (this.crash) {
        this.abandon('crashed', this.crash.info);
      } else if (this.openDocumentIsDone()) {
        this.closeDocument(true);
      } else {
        const status = options.status ?? 'incomplete';
        const message = options.message ?? 'output ended before the test finished';
        this.diag('incomplete-output', message, 'error');
        this.abandon(status, undefined, message);
      }
    }
    if (this.documents.length === 0 && this.docCount === 0) {
      this.diag('no-ktap', 'no KTAP found: no "KTAP version" or "TAP version" line in the input', 'error');
    }
    const result: RunResult = {
      documents: this.documents,
      diagnostics: this.diagnostics,
      counts: this.counts,
      verdict: this.verdict(),
      lines: this.lineNo,
      metadata: {},
    };
    if (this.runCrash) result.crash = this.runCrash;
    this.finished = result;
    return result;
  }

  // ---- lines outside any document -------------------------------------

  private outside(body: string, k: KtapLine, lineNo: number, printk: boolean): void {
    if (k.kind === 'version') {
      this.prefix = '';
      this.openDocument(k, lineNo, printk);
      return;
    }
    const at = body.indexOf('TAP version ');
    // A custom prefix (`foo: KTAP version 1`) counts only in logs without printk
    // output; on a kernel console such a line is someone echoing KTAP.
    if (at > 0 && !this.sawPrintkDoc && !printk) {
      const m = /^(.*?)(K?TAP) version (\d+)\s*$/.exec(body);
      if (m && m[1]!.trim() !== '') {
        this.prefix = m[1]!;
        this.openDocument({ kind: 'version', indent: 0, format: m[2] as 'KTAP' | 'TAP', version: Number(m[3]) }, lineNo, printk);
        return;
      }
    }
    if (body.includes('kunit executor: ')) {
      this.diag('unexpected-line', body.trim(), 'error');
    }
  }

  private openDocument(k: Extract<KtapLine, { kind: 'version' }>, lineNo: number, printk: boolean): void {
    const index = this.docCount++;
    const frame = newFrame('', k.indent, lineNo, this.knownTime(), true, index);
    frame.format = k.format;
    frame.version = k.version;
    this.printkDoc = printk;
    if (printk) this.sawPrintkDoc = true;
    this.stack = [frame];
    this.emit?.({ type: 'document-start', document: index, line: lineNo, format: k.format, version: k.version });
  }

  // ---- KTAP lines -------------------------------------------------------

  private onVersion(k: Extract<KtapLine, { kind: 'version' }>, lineNo: number, printk: boolean): void {
    const doc = this.stack[0]!;
    const top = this.top();
    // A new document: at or left of this one's indent; for suites printed on their
    // own (debugfs re-runs), each one that starts when nothing is open.
    const newDoc = k.indent <= doc.indent || (doc.childIndent !== undefined
      && (k.indent < doc.childIndent || (k.indent === doc.childIndent && this.stack.length === 1)));
    if (newDoc) {
      if (this.crash) this.abandon('crashed', this.crash.info);
      else if (this.openDocumentIsDone()) this.closeDocument(true);
      else {
        this.diag('incomplete-output', 'a new KTAP document started before this one finished', 'error');
        this.abandon('incomplete', undefined, 'a new KTAP document started before this test finished');
      }
      this.prefix = '';
      this.openDocument(k, lineNo, printk);
      return;
    }
    if (k.indent === top.indent && !top.isDoc && top.results === 0 && top.node.plan === undefined) return;
    this.popDeeperThan(k.indent, lineNo);
    this.pushFrame('', k.indent, lineNo);
  }

  private onSubtest(name: string, indent: number, lineNo: number): void {
    this.popDeeperThan(indent, lineNo);
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
    const frame = this.pushFrame(name, Math.max(indent, top.indent + 1), lineNo);
    frame.named = true;
    this.started(frame);
  }

  private onPlan(count: number, indent: number, lineNo: number): void {
    this.popDeeperThan(indent, lineNo);
    let top = this.top();
    if (indent > top.indent) top = this.pushFrame('', indent, lineNo);
    if (top.node.plan !== undefined) {
      this.diag('duplicate-plan', `second plan 1..${count} (already 1..${top.node.plan})`, 'warning', top);
      return;
    }
    top.node.plan = count;
    if (!top.isDoc) this.started(top);
    this.emit?.({ type: 'plan', path: this.pathOf(top), count, line: lineNo });
    if (top.isDoc && count === 0) this.closeDocument(true);
  }

  private onResult(r: Extract<KtapLine, { kind: 'result' }>, lineNo: number): void {
    for (;;) {
      const top = this.top();
      if (top.indent <= r.indent) {
        this.addLeaf(top, r, lineNo);
        return;
      }
      if (this.stack.length === 1) this.insertImplicitDocument();
      const parent = this.stack[this.stack.length - 2]!;
      if (parent.indent <= r.indent) {
        this.closeGroup(r, lineNo);
        return;
      }
      this.closeMissing(lineNo);
    }
  }

  private onDiag(text: string, indent: number, lineNo: number): void {
    const frame = this.frameFor(indent);
    const colon = text.indexOf(': ');
    if (colon > 0 && text.indexOf(' ') > colon) {
      // `key: value`; key is text[0, colon), sliced out only where needed.
      const value = text.slice(colon + 2).trim();
      const stats = value.charCodeAt(0) === 0x70 /* p */ ? parseStats(value) : undefined;
      if (stats) {
        const key = text.slice(0, colon);
        if (key === 'Totals') frame.totals = stats;
        else frame.stats = { name: key, stats };
      } else {
        let dot = colon - 1;
        while (dot > 0 && text.charCodeAt(dot) !== 0x2e /* . */) dot--;
        if (dot > 0) {
          // `<test>.<attr>: value`
          const test = text.slice(0, dot);
          frame.hint = test;
          if (colon - dot === 9 && text.startsWith('location', dot + 1)) {
            const location = parseLocation(value);
            if (location) frame.pendingAttrs(test).location = location;
          } else {
            (frame.pendingAttrs(test).attributes ??= {})[text.slice(dot + 1, colon)] = value;
          }
          return;
        }
        const key = text.slice(0, colon);
        if (SUITE_ATTRIBUTES.has(key) && frame.results === 0) {
          frame.node.attributes[key] = value;
          return;
        }
        if (key !== frame.node.name && /^[\w.\-/:]+$/.test(key)) frame.hint = key;
      }
    }
    frame.pendingLog.push(text);
    this.emitLog?.({ type: 'log', path: this.pathOf(frame), text, line: lineNo, diagnostic: true });
  }

  /** Drop the enclosing test's indentation from a continuation line (its body starts at `from`). */
  private dedent(line: string, from: number, indent: number): string {
    const top = this.stack[this.stack.length - 1];
    const cut = Math.min(indent, top === undefined ? 0 : Math.max(0, top.indent));
    let i = from;
    for (let w = 0; i < line.length && w < cut; i++) w += line.charCodeAt(i) === 0x09 ? 4 : 1;
    return line.slice(i).trimEnd();
  }

  private addOther(text: string, lineNo: number): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return;
    top.pendingLog.push(text);
    this.emitLog?.({ type: 'log', path: this.pathOf(top), text, line: lineNo, diagnostic: false });
  }

  // ---- crashes -------------------------------------------------------------

  private onCrash(body: string, kind: CrashInfo['kind'], fatal: boolean, lineNo: number): void {
    const line = body.trim();
    if (this.stack.length === 0 || this.openDocumentIsDone()) {
      if (this.stack.length > 0) this.closeDocument(true);
      if (this.runCrash === undefined || this.trace !== this.runCrash) {
        if (this.runCrash === undefined) this.runCrash = { reason: line, kind, trace: [line], line: lineNo };
        else if (this.runCrash.trace.length < MAX_TRACE_LINES) this.runCrash.trace.push(line);
        this.trace = this.runCrash;
      } else if (this.runCrash.trace.length < MAX_TRACE_LINES) {
        this.runCrash.trace.push(line);
      }
      return;
    }
    const top = this.top();
    top.pendingLog.push(line);
    if (this.crash) {
      if (this.crash.info.trace.length < MAX_TRACE_LINES) this.crash.info.trace.push(line);
    } else {
      const info: CrashInfo = { reason: line, kind, trace: [line], line: lineNo };
      this.crash = { info, frame: top, logStart: top.pendingLog.length - 1 };
      this.emit?.({ type: 'crash', path: this.pathOf(top), crash: info });
    }
    this.trace = this.crash.info;
    if (fatal) {
      this.diag('crash', `kernel crashed: ${this.crash.info.reason}`, 'error', top);
      this.abandon('crashed', this.crash.info);
      this.runCrash ??= this.trace;
    }
  }

  // ---- the stack -------------------------------------------------------------

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

  private pushFrame(name: string, indent: number, lineNo: number): Frame {
    const top = this.top();
    const frame = newFrame(name, indent, lineNo, this.knownTime(), false, top.docIndex);
    this.stack.push(frame);
    return frame;
  }

  private started(frame: Frame): void {
    if (frame.started) return;
    frame.started = true;
    this.emit?.({ type: 'test-start', path: this.pathOf(frame), line: frame.node.line, time: frame.node.startTime });
  }

  /** Close (without result line) every frame deeper than `indent`, except the document. */
  private popDeeperThan(indent: number, lineNo: number): void {
    while (this.stack.length > 1 && this.top().indent > indent) {
      // A frame that a shallower line leaves behind never got its result line.
      if (this.stack[this.stack.length - 2]!.indent >= indent && this.top().indent > indent) {
        this.closeMissing(lineNo);
      } else break;
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

  private openDocumentIsDone(): boolean {
    if (this.stack.length !== 1) return false;
    const doc = this.stack[0]!;
    return doc.node.plan === undefined || doc.results >= doc.node.plan;
  }

  /** The current time, undefined when no line had one. */
  private knownTime(): number | undefined {
    return this.time === this.time ? this.time : undefined;
  }

  private finishNode(frame: Frame, node: TestNode, lineNo: number): void {
    const time = this.time;
    node.endTime = this.knownTime();
    if (time === time && node.startTime !== undefined) {
      node.durationMs = Math.round((time - node.startTime) * 1e6) / 1e3;
    }
    if (node.children.length === 0) countStatus(this.counts, node.status);
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

  private addLeaf(frame: Frame, r: Extract<KtapLine, { kind: 'result' }>, lineNo: number): void {
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

  private closeGroup(r: Extract<KtapLine, { kind: 'result' }>, lineNo: number): void {
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
  private closeMissing(lineNo: number): void {
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

  private checkNumber(frame: Frame, n: number | undefined): void {
    if (n !== undefined && n !== frame.results + 1) {
      this.diag('number-mismatch', `expected test number ${frame.results + 1}, found ${n}`, 'warning', frame);
    }
  }

  /** An Oops while a test ran, and then the test's own result line: the kernel recovered. */
  private recovered(): void {
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
  private abandon(status: TestStatus, crash?: CrashInfo, message?: string): void {
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

  private closeDocument(complete: boolean): void {
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

  private diag(code: DiagnosticCode, message: string, severity: Diagnostic['severity'], frame?: Frame): void {
    const n = (this.perCode.get(code) ?? 0) + 1;
    this.perCode.set(code, n);
    if (n > this.maxPerCode) return;
    const d: Diagnostic = { code, message, line: this.lineNo, severity };
    if (frame && !frame.isDoc) d.path = this.pathOf(frame).join('/');
    if (n === this.maxPerCode) d.message += ` (further "${code}" diagnostics not listed)`;
    this.diagnostics.push(d);
    this.emit?.({ type: 'diagnostic', diagnostic: d });
  }

  private verdict(): Verdict {
    const c = this.counts;
    if (this.docCount === 0) return 'no-ktap';
    if (c.crashed + c.incomplete + c.notRun > 0 || this.documents.some((d) => !d.complete)) return 'incomplete';
    if (c.failed + c.timeout + c.errors > 0) return 'failed';
    if (c.total === 0) return 'no-tests';
    return 'passed';
  }
}
