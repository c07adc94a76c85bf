/**
 * One open level of the parser's nesting stack: a document, a suite or a
 * parameterised test whose result line has not come yet. Internal to the
 * parser.
 */
import type { Directive, Location, TestNode, TestStatus } from './model.js';

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

export function newFrame(
  name: string, indent: number, line: number, time: number | undefined, isDoc: boolean, docIndex: number,
): Frame {
  const node: TestNode = { name, status: 'incomplete', log: [], children: [], attributes: {}, line };
  if (time !== undefined) node.startTime = time;
  return new Frame(node, indent, isDoc, docIndex);
}

/** Status from a result line. */
export function statusOf(ok: boolean, directive: Directive | undefined): TestStatus {
  switch (directive) {
    case 'SKIP': return 'skip';
    case 'TODO': return 'todo';
    case 'XFAIL': return 'xfail';
    case 'TIMEOUT': return 'timeout';
    case 'ERROR': return 'error';
    default: return ok ? 'pass' : 'fail';
  }
}
