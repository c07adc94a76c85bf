/**
 * One open level of the tree builder's nesting stack: a document, a suite or
 * a parameterised test whose result line has not come yet, and the nodes and
 * documents made from it. Internal to the tree builder (tree.ts).
 */
import type { Directive, KtapDocument, Location, TestNode, TestStatus } from './model.js';
import { parseLocation, parseStats, SUITE_ATTRIBUTES, type KtapLine } from './grammar.js';

type Result = Extract<KtapLine, { kind: 'result' }>;

type Stats = { pass: number; fail: number; skip: number; total: number };

interface PendingTestInfo {
  attributes?: Record<string, string>;
  location?: Location;
}

export class Frame {
  readonly node: TestNode;
  /** Indent of this level's lines (its plan and results); -1 for an implied document. */
  readonly indent: number;
  isDoc: boolean;
  readonly docIndex: number;
  /** Results seen so far at this level. */
  results = 0;
  /** Lines since the last result: they belong to the next test to finish here. */
  pendingLog: string[] = [];
  /** Name of the test running at this level, from its diagnostics (`# name: …`). */
  hint: string | undefined;
  /** Printk time of the last result here (or of the frame's start); NaN when unknown. */
  lastTime: number;
  /** `# <child>: pass:… fail:…` seen since the last result. */
  stats: { name: string; stats: Stats } | undefined;
  /** `# Totals: …` seen since the last result. */
  totals: Stats | undefined;
  named = false;
  started = false;
  format: 'KTAP' | 'TAP' | undefined;
  version: number | undefined;
  /** For an implied document: the indent its suites were printed at. */
  childIndent: number | undefined;
  /**
   * Pending attributes by test name: the latest test's in `lastName` and
   * `lastInfo` (the usual case: a test's attributes come just before its
   * result line), the others in the map. A name is never in both.
   */
  private pending: Map<string, PendingTestInfo> | undefined;
  private lastName = '';
  private lastInfo: PendingTestInfo | undefined;

  constructor(node: TestNode, indent: number, isDoc: boolean, docIndex: number) {
    this.node = node;
    this.indent = indent;
    this.isDoc = isDoc;
    this.docIndex = docIndex;
    this.lastTime = node.startTime ?? NaN;
  }

  /**
   * A `# …` line at this level (`text` without the `#`): stats, totals,
   * attributes and locations are kept for the next result; a `# name: …`
   * line names the running test. Returns true when it is a log line (then
   * in {@link pendingLog}).
   */
  diagnostic(text: string): boolean {
    const colon = text.indexOf(': ');
    if (colon > 0 && text.indexOf(' ') > colon) {
      // `key: value`; key is text[0, colon), sliced out only where needed.
      const value = text.slice(colon + 2).trim();
      const stats = value.charCodeAt(0) === 0x70 /* p */ ? parseStats(value) : undefined;
      if (stats) {
        const key = text.slice(0, colon);
        if (key === 'Totals') this.totals = stats;
        else this.stats = { name: key, stats };
      } else {
        let dot = colon - 1;
        while (dot > 0 && text.charCodeAt(dot) !== 0x2e /* . */) dot--;
        if (dot > 0) {
          // `<test>.<attr>: value`
          const test = text.slice(0, dot);
          this.hint = test;
          if (colon - dot === 9 && text.startsWith('location', dot + 1)) {
            const location = parseLocation(value);
            if (location) this.pendingAttrs(test).location = location;
          } else {
            (this.pendingAttrs(test).attributes ??= {})[text.slice(dot + 1, colon)] = value;
          }
          return false;
        }
        const key = text.slice(0, colon);
        if (SUITE_ATTRIBUTES.has(key) && this.results === 0) {
          this.node.attributes[key] = value;
          return false;
        }
        if (key !== this.node.name && /^[\w.\-/:]+$/.test(key)) this.hint = key;
      }
    }
    this.pendingLog.push(text);
    return true;
  }

  /** Attributes and location announced for a test that has not finished yet. */
  pendingAttrs(test: string): PendingTestInfo {
    if (this.lastInfo !== undefined) {
      if (this.lastName === test) return this.lastInfo;
      (this.pending ??= new Map()).set(this.lastName, this.lastInfo);
    }
    let p = this.pending?.get(test);
    if (p === undefined) p = {};
    else this.pending!.delete(test);
    this.lastName = test;
    this.lastInfo = p;
    return p;
  }

  /** Move announced attributes and location onto the finished node. */
  applyPending(node: TestNode): void {
    let p: PendingTestInfo | undefined;
    if (this.lastInfo !== undefined && this.lastName === node.name) {
      p = this.lastInfo;
      this.lastInfo = undefined;
      this.lastName = '';
    } else {
      if (this.pending === undefined || this.pending.size === 0) return;
      p = this.pending.get(node.name);
      if (p === undefined) return;
      this.pending.delete(node.name);
    }
    if (p.attributes) Object.assign(node.attributes, p.attributes);
    if (p.location) node.location = p.location;
  }
}

export function newFrame(name: string, indent: number, line: number, time: number | undefined, isDoc: boolean, docIndex: number): Frame {
  const node: TestNode = { name, status: 'incomplete', log: [], children: [], attributes: {}, line };
  if (time !== undefined) node.startTime = time;
  return new Frame(node, indent, isDoc, docIndex);
}

/** Status from a result line. */
export function statusOf(ok: boolean, directive: Directive | undefined): TestStatus {
  switch (directive) {
    case 'SKIP':
      return 'skip';
    case 'TODO':
      return 'todo';
    case 'XFAIL':
      return 'xfail';
    case 'TIMEOUT':
      return 'timeout';
    case 'ERROR':
      return 'error';
    default:
      return ok ? 'pass' : 'fail';
  }
}

/** The test a result line at `frame`'s level finished; takes the frame's pending log and attributes. */
export function leafOf(frame: Frame, r: Result, line: number): TestNode {
  const node: TestNode = {
    name: r.name,
    status: statusOf(r.ok, r.directive),
    log: frame.pendingLog,
    children: [],
    attributes: {},
    line,
  };
  frame.pendingLog = [];
  if (r.number !== undefined) node.number = r.number;
  if (r.directive) node.directive = r.directive;
  if (r.reason) node.reason = r.reason;
  if (frame.lastTime === frame.lastTime) node.startTime = frame.lastTime;
  frame.applyPending(node);
  return node;
}

/** `frame` (popped) closed by its result line `r` one level up: its node, named and given its status. */
export function closedGroup(frame: Frame, r: Result, line: number): TestNode {
  const node = frame.node;
  if (r.name !== '') node.name = r.name;
  node.status = statusOf(r.ok, r.directive);
  if (node.status === 'pass' && node.children.length === 0 && !r.directive) node.status = 'no-tests';
  if (r.number !== undefined) node.number = r.number;
  if (r.directive) node.directive = r.directive;
  if (r.reason) node.reason = r.reason;
  node.line = line;
  return node;
}

/** The logs, stats and attributes a group's node takes once its plan-mismatch check is done. */
export function takeGroupLog(frame: Frame, parent: Frame, node: TestNode): void {
  for (const l of frame.pendingLog) node.log.push(l);
  for (const l of parent.pendingLog) node.log.push(l);
  parent.pendingLog = [];
  const stats = parent.stats?.name === node.name ? parent.stats.stats : frame.stats?.stats;
  if (stats) node.stats = stats;
  else if (parent.totals) node.stats = parent.totals;
  parent.stats = undefined;
  parent.totals = undefined;
  parent.applyPending(node);
}

/** The document a document frame became, ending at `endLine`. */
export function documentOf(frame: Frame, complete: boolean, endLine: number): KtapDocument {
  const doc: KtapDocument = {
    index: frame.docIndex,
    tests: frame.node.children,
    log: [...frame.node.log, ...frame.pendingLog],
    complete,
    startLine: frame.node.line,
    endLine,
    attributes: frame.node.attributes,
  };
  if (frame.format) doc.format = frame.format;
  if (frame.version !== undefined) doc.version = frame.version;
  if (frame.node.plan !== undefined) doc.plan = frame.node.plan;
  if (frame.totals) doc.totals = frame.totals;
  return doc;
}
