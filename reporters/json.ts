/**
 * `--json`: kunit-bridge's native JSON, the whole tree with everything the
 * parser knows (statuses, durations, logs, locations, crash traces,
 * diagnostics, run metadata). Schema: docs/json-format.md; bump
 * {@link SCHEMA_VERSION} on any incompatible change.
 */
import type { KtapDocument, RunResult, TestNode } from '../runner/ktap/model.js';
import { renderStreamed, TestCrashes } from './stream.js';
import type { FileReporter, Insertion, ReportSink, ReportWriter } from './types.js';
import { catalogEntry } from './catalog.js';

export const SCHEMA_VERSION = 1;

function test(node: TestNode): Record<string, unknown> {
  const out: Record<string, unknown> = { name: node.name };
  if (node.number !== undefined) out['number'] = node.number;
  out['status'] = node.status;
  if (node.directive) out['directive'] = node.directive;
  if (node.reason !== undefined) out['reason'] = node.reason;
  if (node.durationMs !== undefined) out['durationMs'] = node.durationMs;
  if (node.location) out['location'] = node.location;
  if (Object.keys(node.attributes).length > 0) out['attributes'] = node.attributes;
  if (node.stats) out['stats'] = node.stats;
  if (node.plan !== undefined) out['plan'] = node.plan;
  if (node.crash) out['crash'] = node.crash;
  if (node.flaky) out['flaky'] = true;
  if (node.attempts) out['attempts'] = node.attempts;
  if (node.known) out['known'] = node.known;
  out['line'] = node.line;
  if (node.log.length > 0) out['log'] = node.log;
  if (node.children.length > 0) out['tests'] = node.children.map(test);
  return out;
}

/** A document's fields before its `tests`. */
function documentHead(doc: KtapDocument): Record<string, unknown> {
  const out: Record<string, unknown> = { index: doc.index };
  if (doc.format) out['format'] = doc.format;
  if (doc.version !== undefined) out['version'] = doc.version;
  if (doc.plan !== undefined) out['plan'] = doc.plan;
  out['complete'] = doc.complete;
  out['startLine'] = doc.startLine;
  out['endLine'] = doc.endLine;
  if (doc.totals) out['totals'] = doc.totals;
  if (Object.keys(doc.attributes).length > 0) out['attributes'] = doc.attributes;
  if (doc.origin) out['origin'] = doc.origin;
  if (doc.log.length > 0) out['log'] = doc.log;
  return out;
}

/**
 * `JSON.stringify(value, null, 2)` as it is at `depth` levels of nesting: the value wrapped in
 * `depth` arrays, stringified once, cut out (`d² + d` characters of brackets and indentation
 * after it, `2d` more before it). One native call, no second pass over the text.
 */
function nested(value: unknown, depth: number): string {
  let wrapped = value;
  for (let i = 0; i < depth; i++) wrapped = [wrapped];
  const json = JSON.stringify(wrapped, null, 2);
  const around = depth * depth + depth;
  return depth === 0 ? json : json.slice(around + 2 * depth, json.length - around);
}

/** An object's JSON without its closing `}`, to go on with more keys. */
const open = (value: Record<string, unknown>, depth: number): string => nested(value, depth).slice(0, -(2 + 2 * depth));

/**
 * The same bytes as `JSON.stringify(everything, null, 2)`, written test by test:
 * the run's fields go in at the start once the run is finished, each document's
 * at its start once the document is.
 */
class JsonWriter implements ReportWriter {
  private readonly crashes = new TestCrashes();
  private readonly insertions: Insertion[] = [{ at: 0, text: '' }];
  private documents = 0;
  private tests = 0;
  private docAt = 0;

  constructor(private readonly sink: ReportSink) {}

  startDocument(): void {
    this.docAt = this.sink.mark();
    this.tests = 0;
  }

  test(node: TestNode): void {
    this.crashes.see(node);
    this.sink.write(`${this.tests++ > 0 ? ',\n' : ''}        ${nested(test(node), 4)}`);
  }

  endDocument(doc: KtapDocument): void {
    const head = `${this.documents++ > 0 ? ',\n' : ''}    ${open(documentHead(doc), 2)},\n      "tests": [${this.tests > 0 ? '\n' : ''}`;
    this.insertions.push({ at: this.docAt, text: head });
    this.sink.write(`${this.tests > 0 ? '\n      ' : ''}]\n    }`);
  }

  finish(result: RunResult): Insertion[] {
    const out: Record<string, unknown> = {
      schemaVersion: SCHEMA_VERSION,
      verdict: result.verdict,
      counts: result.counts,
      metadata: result.metadata,
      lines: result.lines,
    };
    // A crash inside a test is that test's `crash`, not the run's as well.
    const crash = this.crashes.outside(result);
    if (crash) out['crash'] = crash;
    if (result.shard) out['shard'] = result.shard;
    if (result.groups) out['groups'] = result.groups;
    if (result.build) out['build'] = result.build;
    out['diagnostics'] = result.diagnostics;
    this.insertions[0]!.text = `${open(out, 0)},\n  "documents": [${this.documents > 0 ? '\n' : ''}`;
    const gate = result.gate ? `,\n  "gate": ${nested(result.gate, 1)}` : '';
    this.sink.write(`${this.documents > 0 ? '\n  ' : ''}]${gate}\n}\n`);
    return this.insertions;
  }
}

export const jsonReporter: FileReporter = {
  ...catalogEntry('json'),
  render: (result) => renderStreamed((sink) => new JsonWriter(sink), result),
  open: (sink) => new JsonWriter(sink),
};
