/**
 * Streamed reports (reporters/types.ts `ReportWriter`) without a file: a sink
 * in memory, the walk that gives a finished tree to a writer test by test, and
 * what writers track as tests go by instead of searching the tree at the end.
 */
import type { CrashInfo, RunResult, TestNode } from '../runner/ktap/model.js';
import type { Insertion, ReportSink, ReportWriter } from './types.js';

/** A sink that keeps the body in memory; {@link MemorySink.text} puts the insertions in. */
export class MemorySink implements ReportSink {
  private readonly parts: string[] = [];
  private length = 0;

  write(text: string): void {
    this.parts.push(text);
    this.length += text.length;
  }

  mark(): number {
    return this.length;
  }

  text(insertions: readonly Insertion[]): string {
    const body = this.parts.join('');
    const out: string[] = [];
    let from = 0;
    for (const { at, text } of insertions) {
      out.push(body.slice(from, at), text);
      from = at;
    }
    out.push(body.slice(from));
    return out.join('');
  }
}

/** Give a finished run to a writer, document by document and test by test. */
export function feedTree(writer: ReportWriter, result: RunResult): Insertion[] {
  for (const doc of result.documents) {
    writer.startDocument(doc.index, doc.origin);
    for (const test of doc.tests) writer.test(test);
    writer.endDocument(doc);
  }
  return writer.finish(result);
}

/** A streamed report rendered whole, as a string. */
export function renderStreamed(open: (sink: ReportSink) => ReportWriter, result: RunResult): string {
  const sink = new MemorySink();
  return sink.text(feedTree(open(sink), result));
}

const crashKey = (c: CrashInfo): string => `${c.line}\n${c.reason}`;

/** The crashes the tests carry, so the run's crash can be told apart without the tree (status.ts `crashOutsideTests`). */
export class TestCrashes {
  private readonly keys = new Set<string>();

  see(node: TestNode): void {
    if (node.crash) this.keys.add(crashKey(node.crash));
    for (const child of node.children) this.see(child);
  }

  /** The run's crash when no test seen carries it. */
  outside(result: RunResult): CrashInfo | undefined {
    const crash = result.crash;
    return crash && !this.keys.has(crashKey(crash)) ? crash : undefined;
  }
}
