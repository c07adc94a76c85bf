/**
 * Merging the results of several lanes (QEMU instances that each ran part of
 * the tests) into the one tree a single boot would have given. Pure.
 */
import { countLeaves, emptyCounts, type Diagnostic, type KtapDocument, type RunResult, type TestNode } from './ktap/model.js';
import { verdictFor } from './ktap/status.js';

export interface LaneResult {
  lane: number;
  result: RunResult;
}

/**
 * Merge lane results. `order` is the boot order of suite names (from the
 * kernel's test list); `expected` the suites each lane was meant to run —
 * a suite no lane reported is added as `not-run`, so nothing silently
 * disappears.
 */
export function mergeLanes(
  lanes: LaneResult[],
  order: string[],
  expected: string[][] = [],
  moduleOrder: string[] = [],
  label: (lane: number) => string = (lane) => `lane ${lane + 1}`,
): RunResult {
  const rank = new Map(order.map((name, i) => [name, i]));
  const suites: { node: TestNode; lane: number; doc: number }[] = [];
  const extraDocs: KtapDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  let complete = true;
  let sawKtap = false;
  let lines = 0;
  let crash: RunResult['crash'];
  for (const { lane, result } of lanes) {
    lines += result.lines;
    crash ??= result.crash;
    if (result.verdict !== 'no-ktap') sawKtap = true;
    for (const d of result.diagnostics) diagnostics.push({ ...d, message: `${label(lane)}: ${d.message}` });
    result.documents.forEach((doc, i) => {
      if (i === 0 && doc.origin?.kind !== 'module') {
        if (!doc.complete) complete = false;
        for (const t of doc.tests) suites.push({ node: t, lane, doc: i });
      } else {
        extraDocs.push(lanes.length > 1 ? { ...doc, origin: { ...(doc.origin ?? { kind: 'boot' }), lane } } : doc);
      }
    });
  }
  const seen = new Set(suites.map((s) => s.node.name));
  for (const [lane, names] of expected.entries()) {
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      suites.push({
        node: { name, status: 'not-run', log: [], children: [], attributes: {}, line: 0, reason: `${label(lane)} did not run it` },
        lane,
        doc: 0,
      });
      diagnostics.push({
        code: 'missing-result',
        message: `${label(lane)}: suite "${name}" was expected but never reported`,
        line: 0,
        path: name,
        severity: 'error',
      });
    }
  }
  suites.sort((a, b) => (rank.get(a.node.name) ?? 1e9) - (rank.get(b.node.name) ?? 1e9) || a.lane - b.lane);
  const tests = suites.map((s, i) => ({ ...s.node, number: i + 1 }));
  const doc: KtapDocument = {
    index: 0,
    format: 'KTAP',
    version: 1,
    plan: tests.length,
    tests,
    log: [],
    complete,
    startLine: 0,
    endLine: 0,
    attributes: {},
  };
  if (lanes.some((l) => l.result.documents[0]?.origin)) doc.origin = { kind: 'boot' };
  // Module documents in the order the modules were given, whichever lane loaded them.
  const moduleRank = new Map(moduleOrder.map((m, i) => [m, i]));
  const rankOf = (d: KtapDocument): number => (d.origin?.module !== undefined ? (moduleRank.get(d.origin.module) ?? 1e9) : -1);
  extraDocs.sort((a, b) => rankOf(a) - rankOf(b));
  const documents = [doc, ...extraDocs.map((d, i) => ({ ...d, index: i + 1 }))];
  const counts = emptyCounts();
  for (const d of documents) for (const t of d.tests) countLeaves(t, counts);
  const merged: RunResult = {
    documents,
    diagnostics,
    counts,
    verdict: verdictFor(counts, documents, sawKtap, crash),
    lines,
    metadata: {},
  };
  if (crash) merged.crash = crash;
  return merged;
}
