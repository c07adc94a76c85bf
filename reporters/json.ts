/**
 * `--json`: kunit-bridge's native JSON, the whole tree with everything the
 * parser knows (statuses, durations, logs, locations, crash traces,
 * diagnostics, run metadata). Schema: docs/json-format.md; bump
 * {@link SCHEMA_VERSION} on any incompatible change.
 */
import type { KtapDocument, RunResult, TestNode } from '../runner/ktap/model.js';
import { crashOutsideTests } from '../runner/ktap/status.js';
import type { FileReporter } from './types.js';

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

function document(doc: KtapDocument): Record<string, unknown> {
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
  out['tests'] = doc.tests.map(test);
  return out;
}

export const jsonReporter: FileReporter = {
  name: 'json',
  description: 'kunit-bridge native JSON: the full tree (docs/json-format.md)',
  render(result: RunResult): string {
    const out: Record<string, unknown> = {
      schemaVersion: SCHEMA_VERSION,
      verdict: result.verdict,
      counts: result.counts,
      metadata: result.metadata,
      lines: result.lines,
    };
    // A crash inside a test is that test's `crash`, not the run's as well.
    const crash = crashOutsideTests(result);
    if (crash) out['crash'] = crash;
    if (result.shard) out['shard'] = result.shard;
    if (result.groups) out['groups'] = result.groups;
    if (result.build) out['build'] = result.build;
    out['diagnostics'] = result.diagnostics;
    out['documents'] = result.documents.map(document);
    if (result.gate) out['gate'] = result.gate;
    return `${JSON.stringify(out, null, 2)}\n`;
  },
};
