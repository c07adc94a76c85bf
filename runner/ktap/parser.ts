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
import type { CrashInfo, KtapEvent, RunResult } from './model.js';
import { KtapTree } from './tree.js';

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

export class KtapParser {
  /** The `onEvent` callback, or undefined when `log` events are off. */
  private readonly emitLog: ((e: KtapEvent) => void) | undefined;
  private readonly scanner = new PrintkScanner();
  private readonly tree: KtapTree;
  /** Non-whitespace text before `KTAP version` in the current document. */
  private prefix = '';
  /** The current document's lines carry a printk prefix. */
  private printkDoc = false;
  /** Some document in this log had printk prefixes. */
  private sawPrintkDoc = false;
  private finished: RunResult | undefined;

  constructor(options: ParserOptions = {}) {
    this.emitLog = options.logEvents === false ? undefined : options.onEvent;
    this.tree = new KtapTree(options.onEvent, options.retain ?? true, options.maxDiagnosticsPerCode ?? 50);
  }

  /**
   * Feed one line (no newline). `arrivalMs` is the caller's clock for this
   * line (e.g. when it came off the serial port), used for durations when
   * the line has no printk timestamp.
   */
  push(raw: string, info?: LineInfo, arrivalMs?: number): void {
    if (this.finished) throw new Error('KtapParser.push() after finish()');
    const lineNo = ++this.tree.lineNo;
    if (info !== undefined) {
      if (info.truncatedFrom !== undefined) {
        this.tree.diag('line-truncated', `line of ${info.truncatedFrom} bytes cut to its first bytes`, 'warning');
      }
      if (info.invalidUtf8) this.tree.diag('invalid-utf8', 'invalid UTF-8 replaced by U+FFFD', 'info');
    }
    // The body is raw from `from` on; it is sliced out only where its text is needed.
    const sc = this.scanner;
    const printk = sc.scan(raw);
    let from = sc.end;
    if (sc.time === sc.time) this.tree.time = sc.time;
    else if (arrivalMs !== undefined) this.tree.time = arrivalMs / 1000;
    let foreign = false;
    if (this.tree.stack.length > 0) {
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
    if (this.tree.trace !== undefined && !foreign) {
      const body = raw.slice(from);
      const t = body.trimEnd();
      if (t !== '' && this.tree.trace.trace.length < MAX_TRACE_LINES) this.tree.trace.trace.push(t);
      if (crashEnd(body)) this.tree.trace = undefined;
    }
    if (foreign) {
      this.addOther(raw, lineNo);
      return;
    }
    const k = classify(raw, from);
    if (k.kind !== 'other') this.tree.trace = undefined;
    if (this.tree.stack.length === 0) {
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
    if (this.tree.stack.length > 0) {
      if (this.tree.crash) {
        this.tree.abandon('crashed', this.tree.crash.info);
      } else if (this.tree.openDocumentIsDone()) {
        this.tree.closeDocument(true);
      } else {
        const status = options.status ?? 'incomplete';
        const message = options.message ?? 'output ended before the test finished';
        this.tree.diag('incomplete-output', message, 'error');
        this.tree.abandon(status, undefined, message);
      }
    }
    if (this.tree.documents.length === 0 && this.tree.docCount === 0) {
      this.tree.diag('no-ktap', 'no KTAP found: no "KTAP version" or "TAP version" line in the input', 'error');
    }
    const result: RunResult = {
      documents: this.tree.documents,
      diagnostics: this.tree.diagnostics,
      counts: this.tree.counts,
      verdict: this.tree.verdict(),
      lines: this.tree.lineNo,
      metadata: {},
    };
    if (this.tree.runCrash) result.crash = this.tree.runCrash;
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
      this.tree.diag('unexpected-line', body.trim(), 'error');
    }
  }

  private openDocument(k: Extract<KtapLine, { kind: 'version' }>, lineNo: number, printk: boolean): void {
    this.printkDoc = printk;
    if (printk) this.sawPrintkDoc = true;
    this.tree.openDocument(k, lineNo);
  }

  // ---- KTAP lines -------------------------------------------------------

  private onVersion(k: Extract<KtapLine, { kind: 'version' }>, lineNo: number, printk: boolean): void {
    const doc = this.tree.stack[0]!;
    const top = this.tree.top();
    // A new document: at or left of this one's indent; for suites printed on their
    // own (debugfs re-runs), each one that starts when nothing is open.
    const newDoc = k.indent <= doc.indent || (doc.childIndent !== undefined
      && (k.indent < doc.childIndent || (k.indent === doc.childIndent && this.tree.stack.length === 1)));
    if (newDoc) {
      if (this.tree.crash) this.tree.abandon('crashed', this.tree.crash.info);
      else if (this.tree.openDocumentIsDone()) this.tree.closeDocument(true);
      else {
        this.tree.diag('incomplete-output', 'a new KTAP document started before this one finished', 'error');
        this.tree.abandon('incomplete', undefined, 'a new KTAP document started before this test finished');
      }
      this.prefix = '';
      this.openDocument(k, lineNo, printk);
      return;
    }
    if (k.indent === top.indent && !top.isDoc && top.results === 0 && top.node.plan === undefined) return;
    this.tree.popDeeperThan(k.indent, lineNo);
    // Closing frames without result lines may have completed (and closed) the document.
    if (this.tree.stack.length === 0) this.openDocument(k, lineNo, printk);
    else this.tree.pushFrame('', k.indent, lineNo);
  }

  private onSubtest(name: string, indent: number, lineNo: number): void {
    this.tree.popDeeperThan(indent, lineNo);
    if (this.tree.stack.length === 0) return;
    // `    KTAP version 1` + `    # Subtest: x` with nothing above: a suite printed
    // on its own (a debugfs re-run), not an indented document.
    if (this.tree.stack.length === 1 && this.tree.top().indent > 0 && this.tree.top().indent === indent && this.tree.top().results === 0) {
      this.tree.insertImplicitDocument();
    }
    const top = this.tree.top();
    if (top.indent === indent && !top.named && top.results === 0) {
      top.named = true;
      top.node.name = name;
      if (!top.isDoc) this.tree.started(top);
      return;
    }
    const frame = this.tree.pushFrame(name, Math.max(indent, top.indent + 1), lineNo);
    if (frame === undefined) {
      this.addOther(`# Subtest: ${name}`, lineNo);
      return;
    }
    frame.named = true;
    this.tree.started(frame);
  }

  private onPlan(count: number, indent: number, lineNo: number): void {
    this.tree.popDeeperThan(indent, lineNo);
    if (this.tree.stack.length === 0) return;
    let top = this.tree.top();
    if (indent > top.indent) {
      const frame = this.tree.pushFrame('', indent, lineNo);
      if (frame === undefined) {
        this.addOther(`1..${count}`, lineNo);
        return;
      }
      top = frame;
    }
    if (top.node.plan !== undefined) {
      this.tree.diag('duplicate-plan', `second plan 1..${count} (already 1..${top.node.plan})`, 'warning', top);
      return;
    }
    top.node.plan = count;
    if (!top.isDoc) this.tree.started(top);
    this.tree.emit?.({ type: 'plan', path: this.tree.pathOf(top), count, line: lineNo });
    if (top.isDoc && count === 0) this.tree.closeDocument(true);
  }

  private onResult(r: Extract<KtapLine, { kind: 'result' }>, lineNo: number): void {
    for (;;) {
      // Closing frames without result lines may have completed (and closed) the document.
      if (this.tree.stack.length === 0) return;
      const top = this.tree.top();
      if (top.indent <= r.indent) {
        this.tree.addLeaf(top, r, lineNo);
        return;
      }
      if (this.tree.stack.length === 1) this.tree.insertImplicitDocument();
      const parent = this.tree.stack[this.tree.stack.length - 2]!;
      if (parent.indent <= r.indent) {
        this.tree.closeGroup(r, lineNo);
        return;
      }
      this.tree.closeMissing(lineNo);
    }
  }

  private onDiag(text: string, indent: number, lineNo: number): void {
    const frame = this.tree.frameFor(indent);
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
    this.emitLog?.({ type: 'log', path: this.tree.pathOf(frame), text, line: lineNo, diagnostic: true });
  }

  /** Drop the enclosing test's indentation from a continuation line (its body starts at `from`). */
  private dedent(line: string, from: number, indent: number): string {
    const top = this.tree.stack[this.tree.stack.length - 1];
    const cut = Math.min(indent, top === undefined ? 0 : Math.max(0, top.indent));
    let i = from;
    for (let w = 0; i < line.length && w < cut; i++) w += line.charCodeAt(i) === 0x09 ? 4 : 1;
    return line.slice(i).trimEnd();
  }

  private addOther(text: string, lineNo: number): void {
    const top = this.tree.stack[this.tree.stack.length - 1];
    if (top === undefined) return;
    top.pendingLog.push(text);
    this.emitLog?.({ type: 'log', path: this.tree.pathOf(top), text, line: lineNo, diagnostic: false });
  }

  // ---- crashes -------------------------------------------------------------

  private onCrash(body: string, kind: CrashInfo['kind'], fatal: boolean, lineNo: number): void {
    const line = body.trim();
    if (this.tree.stack.length === 0 || this.tree.openDocumentIsDone()) {
      if (this.tree.stack.length > 0) this.tree.closeDocument(true);
      if (this.tree.runCrash === undefined || this.tree.trace !== this.tree.runCrash) {
        if (this.tree.runCrash === undefined) this.tree.runCrash = { reason: line, kind, trace: [line], line: lineNo };
        else if (this.tree.runCrash.trace.length < MAX_TRACE_LINES) this.tree.runCrash.trace.push(line);
        this.tree.trace = this.tree.runCrash;
      } else if (this.tree.runCrash.trace.length < MAX_TRACE_LINES) {
        this.tree.runCrash.trace.push(line);
      }
      return;
    }
    const top = this.tree.top();
    top.pendingLog.push(line);
    if (this.tree.crash) {
      if (this.tree.crash.info.trace.length < MAX_TRACE_LINES) this.tree.crash.info.trace.push(line);
    } else {
      const info: CrashInfo = { reason: line, kind, trace: [line], line: lineNo };
      this.tree.crash = { info, frame: top, logStart: top.pendingLog.length - 1 };
      this.tree.emit?.({ type: 'crash', path: this.tree.pathOf(top), crash: info });
    }
    this.tree.trace = this.tree.crash.info;
    if (fatal) {
      this.tree.diag('crash', `kernel crashed: ${this.tree.crash.info.reason}`, 'error', top);
      this.tree.abandon('crashed', this.tree.crash.info);
      this.tree.runCrash ??= this.tree.trace;
    }
  }
}
