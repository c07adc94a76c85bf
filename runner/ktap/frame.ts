/**
 * One open level of the parser's nesting stack: a document, a suite or a
 * parameterised test whose result line has not come yet. Internal to the
 * parser.
 */
import type { Directive, Location, TestNode, TestStatus } from './model.js';

type Stats = { pass: number; fail: number; skip: number; total: number };

interface PendingTestInfo {
  attributes: Record<string, string>;
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
  /** Printk time of the last result here (or of the frame's start). */
  lastTime: number | undefined;
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
  private pending: Map<string, PendingTestInfo> | undefined;

  constructor(node: TestNode, indent: number, isDoc: boolean, docIndex: number) {
    this.node = node;
    this.indent = indent;
    this.isDoc = isDoc;
    this.docIndex = docIndex;
    this.lastTime = node.startTime;
  }

  /** Attributes and location announced for a test that has not finished yet. */
  pendingAttrs(test: string): PendingTestInfo {
    this.pending ??= new Map();
    let p = this.pending.get(test);
    if (p === undefined) {
      p = { attributes: {} };
      this.pending.set(test, p);
    }
    return p;
  }

  /** Move announced attributes and location onto the finished node. */
  applyPending(node: TestNode): void {
    if (this.pending === undefined) return;
    const p = this.pending.get(node.name);
    if (p === undefined) return;
    this.pending.delete(node.name);
    Object.assign(node.attributes, p.attributes);
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
