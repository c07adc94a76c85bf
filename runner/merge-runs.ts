/**
 * `kunit-bridge merge`: results.json files of shards, lanes or whole runs put
 * back together. Pure (the files are read by the caller).
 *
 * Inputs of one architecture and kernel form a group; shards of a group are
 * merged into the single-boot order (runner/merge.ts). Several groups stay
 * apart: each group's documents carry `origin.group`. Nothing is lost
 * silently: a shard missing from K/N makes its suites `not-run`; the same
 * shard twice, a test in two inputs, differing kernel images or differing
 * shard plans are refused (exit 2) naming the files.
 */
import { basename } from 'node:path';
import { BridgeError } from './errors.js';
import { countLeaves, emptyCounts, type KtapDocument, type RunGroup, type RunResult, type ShardInfo } from './ktap/model.js';
import { mergeLanes } from './merge.js';
import { verdictFor } from './ktap/status.js';
import { leafTests } from './gate/test-path.js';

export interface MergeInput {
  path: string;
  result: RunResult;
}

export interface MergeOutcome {
  result: RunResult;
  /** One line per shard that is missing, naming its suites. */
  warnings: string[];
}

function refuse(message: string): never {
  throw new BridgeError('E_MERGE', message);
}

/** The architecture and kernel a result belongs to. */
export function groupKey(result: RunResult): { arch: string; kernel: string } {
  const m = result.metadata;
  return {
    arch: m['arch'] ?? 'unknown-arch',
    kernel: m['kernelVersion'] ?? (m['kernel'] ? basename(m['kernel']) : 'unknown-kernel'),
  };
}

function kernelHashOf(r: RunResult): string | undefined {
  return r.shard?.kernelHash ?? r.metadata['kernelHash'];
}

/**
 * Leaf test paths (runner/gate/test-path.ts) an input ran, a module's prefixed with its file (a module
 * may hold a suite of a built-in's name); a suite it only lists as not-run is not one.
 */
function leafPaths(result: RunResult): string[] {
  return leafTests(result)
    .filter((t) => !(t.names.length === 1 && t.node.status === 'not-run'))
    .map((t) => {
      const module = result.documents[t.document]?.origin?.module;
      return module ? `${module}:${t.path}` : t.path;
    });
}

const planKey = (s: ShardInfo): string => JSON.stringify([s.total, s.suites, s.parts, s.modules]);

/** A module no input loaded: a document with one not-run test named after it (as `run` writes it). */
function moduleNotRun(module: string, why: string): KtapDocument {
  return {
    index: 0,
    tests: [{ name: module, status: 'not-run', reason: why, log: [], children: [], attributes: {}, line: 0 }],
    log: [],
    complete: false,
    startLine: 0,
    endLine: 0,
    attributes: {},
    origin: { kind: 'module', module },
  };
}

function mergeGroup(inputs: MergeInput[], warnings: string[]): { result: RunResult; shards?: number } {
  // One kernel image per group.
  const hashed = inputs.filter((i) => kernelHashOf(i.result));
  const first = hashed[0];
  for (const other of hashed) {
    if (kernelHashOf(other.result) !== kernelHashOf(first!.result)) {
      refuse(
        `${first!.path} and ${other.path} are runs of different kernel images (${kernelHashOf(first!.result)!.slice(0, 12)}… and ${kernelHashOf(other.result)!.slice(0, 12)}…): merge the shards of one build`,
      );
    }
  }
  const sharded = inputs.filter((i) => i.result.shard);
  const plan = sharded[0]?.result.shard;
  const byIndex = new Map<number, MergeInput>();
  for (const i of sharded) {
    const s = i.result.shard!;
    if (planKey(s) !== planKey(plan!)) {
      refuse(
        `${sharded[0]!.path} (shard ${plan!.index}/${plan!.total}) and ${i.path} (shard ${s.index}/${s.total}) were planned differently: run every shard with the same -- shard N and --timings file`,
      );
    }
    const dup = byIndex.get(s.index);
    if (dup) refuse(`${dup.path} and ${i.path} are both shard ${s.index}/${s.total}: merge each shard once`);
    byIndex.set(s.index, i);
  }
  // A test in two inputs.
  const owner = new Map<string, string>();
  for (const i of inputs) {
    for (const p of leafPaths(i.result)) {
      const was = owner.get(p);
      if (was !== undefined && was !== i.path) refuse(`test ${p} is in both ${was} and ${i.path}: merge each shard once`);
      owner.set(p, i.path);
    }
  }
  if (inputs.length === 1 && !plan) return { result: inputs[0]!.result };
  const label = (lane: number): string => (plan ? `shard ${lane + 1}/${plan.total}` : `input ${lane + 1}`);
  const ordered = plan ? [...sharded].sort((a, b) => a.result.shard!.index - b.result.shard!.index) : inputs;
  const lanes = ordered.map((i, n) => ({ lane: plan ? i.result.shard!.index - 1 : n, result: i.result }));
  const unsharded = plan ? inputs.filter((i) => !i.result.shard) : [];
  unsharded.forEach((i, n) => {
    lanes.push({ lane: plan!.total + n, result: i.result });
  });
  const expected: string[][] = [];
  const order: string[] = plan ? plan.suites : [];
  const extraDocs: KtapDocument[] = [];
  if (plan) {
    for (let k = 1; k <= plan.total; k++) {
      const suites = plan.suites.filter((_, i) => plan.parts[i] === k);
      expected[k - 1] = suites;
      if (byIndex.has(k)) continue;
      const mods = plan.modules[k - 1] ?? [];
      warnings.push(
        `shard ${k}/${plan.total} is missing: its ${suites.length} suite(s) are not-run: ${suites.join(', ') || '(none)'}` +
          (mods.length ? `; module(s) not loaded: ${mods.join(', ')}` : '') +
          '; give its results.json too',
      );
      for (const m of mods) extraDocs.push(moduleNotRun(m, `shard ${k}/${plan.total} is missing`));
    }
  } else {
    for (const i of inputs)
      for (const d of i.result.documents) if (d.origin?.kind !== 'module') for (const t of d.tests) order.push(t.name);
  }
  if (extraDocs.length)
    lanes.push({
      lane: (plan?.total ?? 0) + unsharded.length,
      result: {
        documents: [{ ...emptyBootDoc(), complete: true }, ...extraDocs],
        diagnostics: [],
        counts: emptyCounts(),
        verdict: 'incomplete',
        lines: 0,
        metadata: {},
      },
    });
  const moduleOrder = plan ? plan.modules.flat() : [];
  const result = mergeLanes(lanes, order, expected, moduleOrder, label);
  const metas = inputs.map((i) => i.result.metadata);
  result.metadata = {
    ...metas[0],
    lanes: String(metas.reduce((n, m) => n + Number(m['lanes'] ?? 1), 0)),
    endings: metas.map((m) => m['endings'] ?? 'exited').join(','),
    inputs: String(inputs.length),
    ...(plan ? { shards: String(plan.total) } : {}),
  };
  return plan ? { result, shards: plan.total } : { result };
}

function emptyBootDoc(): KtapDocument {
  return { index: 0, tests: [], log: [], complete: true, startLine: 0, endLine: 0, attributes: {} };
}

/** Merge the inputs (already read) into one result. Throws BridgeError (exit 2) on a refusal. */
export function mergeRuns(inputs: MergeInput[]): MergeOutcome {
  if (inputs.length === 0) refuse('nothing to merge: give results.json files or run output directories');
  const seenPath = new Set<string>();
  for (const i of inputs) {
    if (seenPath.has(i.path)) refuse(`${i.path} is given twice`);
    seenPath.add(i.path);
  }
  const groups = new Map<string, { arch: string; kernel: string; inputs: MergeInput[] }>();
  for (const i of inputs) {
    const k = groupKey(i.result);
    const key = `${k.arch}\u0000${k.kernel}`;
    const g = groups.get(key) ?? { ...k, inputs: [] };
    g.inputs.push(i);
    groups.set(key, g);
  }
  const warnings: string[] = [];
  const merged = [...groups.values()].map((g) => ({ ...g, ...mergeGroup(g.inputs, warnings) }));
  if (merged.length === 1) return { result: merged[0]!.result, warnings };
  // Several architectures or kernels: one report, each group's documents tagged with it.
  const documents: KtapDocument[] = [];
  const diagnostics: RunResult['diagnostics'] = [];
  const info: RunGroup[] = [];
  let lines = 0;
  let crash: RunResult['crash'];
  merged.forEach((g, gi) => {
    const name = `${g.arch} ${g.kernel}`;
    for (const d of g.result.documents)
      documents.push({ ...d, index: documents.length, origin: { ...(d.origin ?? { kind: 'boot' }), group: gi } });
    for (const d of g.result.diagnostics) diagnostics.push({ ...d, message: `${name}: ${d.message}` });
    lines += g.result.lines;
    crash ??= g.result.crash;
    const m = g.result.metadata;
    info.push({
      name,
      arch: g.arch,
      inputs: g.inputs.map((i) => i.path),
      metadata: m,
      ...(m['kernelVersion'] ? { kernelVersion: m['kernelVersion'] } : {}),
      ...(kernelHashOf(g.inputs[0]!.result) ? { kernelHash: kernelHashOf(g.inputs[0]!.result)! } : {}),
      ...(g.shards ? { shards: g.shards } : {}),
    });
  });
  const counts = emptyCounts();
  for (const d of documents) for (const t of d.tests) countLeaves(t, counts);
  const sawKtap = merged.some((g) => g.result.verdict !== 'no-ktap');
  const result: RunResult = {
    documents,
    diagnostics,
    counts,
    verdict: verdictFor(counts, documents, sawKtap),
    lines,
    metadata: { groups: info.map((g) => g.name).join(', '), inputs: String(inputs.length) },
    groups: info,
  };
  if (crash) result.crash = crash;
  return { result, warnings };
}
