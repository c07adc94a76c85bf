import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { countLeaves, emptyCounts, type RunResult, type ShardInfo, type TestNode } from '../../runner/ktap/model.js';
import { mergeRuns, type MergeInput } from '../../runner/merge-runs.js';
import { readResults } from '../../runner/results-file.js';
import { BridgeError } from '../../runner/errors.js';
import { jsonReporter } from '../../reporters/json.js';
import { junitReporter } from '../../reporters/junit.js';
import { tapReporter } from '../../reporters/tap.js';
import { node } from '../helpers/sample-result.js';

const SUITES = ['sa', 'sb', 'sc', 'sd'];
const PARTS = [1, 2, 2, 3];
const suite = (name: string, status: TestNode['status'] = 'pass'): TestNode =>
  node(name, status, { children: [node('t1', status), node('t2', 'pass')] });

function result(suites: TestNode[], metadata: Record<string, string>, shard?: Partial<ShardInfo>): RunResult {
  const counts = emptyCounts();
  for (const s of suites) countLeaves(s, counts);
  const r: RunResult = {
    documents: [{ index: 0, tests: suites, log: [], complete: true, startLine: 1, endLine: 9, attributes: {} }],
    diagnostics: [],
    counts,
    verdict: counts.failed ? 'failed' : 'passed',
    lines: 10,
    metadata,
  };
  if (shard)
    r.shard = { index: 1, total: 3, kernelHash: 'h1', expected: [], suites: SUITES, parts: PARTS, modules: [[], [], []], ...shard };
  return r;
}
const meta = { arch: 'x86_64', kernelVersion: '6.12.117', kernelHash: 'h1' };
const shard = (k: number, over: Partial<ShardInfo> = {}, m: Record<string, string> = meta): MergeInput => {
  const expected = SUITES.filter((_, i) => PARTS[i] === k);
  return {
    path: `s${k}.json`,
    result: result(
      expected.map((n) => suite(n)),
      m,
      { index: k, expected, ...over },
    ),
  };
};
const refusal = (inputs: MergeInput[]): string => {
  try {
    mergeRuns(inputs);
  } catch (err) {
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('merge', () => {
  test('shards in any order: single-boot order, renumbered, counts and verdict of the whole', () => {
    const { result: r, warnings } = mergeRuns([shard(3), shard(1), shard(2)]);
    expect(warnings).toEqual([]);
    expect(r.documents[0]!.tests.map((t) => [t.name, t.number])).toEqual([
      ['sa', 1],
      ['sb', 2],
      ['sc', 3],
      ['sd', 4],
    ]);
    expect(r.counts.total).toBe(8);
    expect(r.verdict).toBe('passed');
    expect(r.metadata['shards']).toBe('3');
    expect(r.groups).toBeUndefined();
  });
  test('a missing shard: its suites not-run, named; incomplete', () => {
    const { result: r, warnings } = mergeRuns([shard(1), shard(3)]);
    expect(warnings).toEqual([expect.stringContaining('shard 2/3 is missing: its 2 suite(s) are not-run: sb, sc')]);
    expect(r.documents[0]!.tests.map((t) => [t.name, t.status])).toEqual([
      ['sa', 'pass'],
      ['sb', 'not-run'],
      ['sc', 'not-run'],
      ['sd', 'pass'],
    ]);
    expect(r.verdict).toBe('incomplete');
  });
  test("a missing shard's modules are not-run too", () => {
    const mods = [['a.ko'], ['b.ko'], []];
    const { result: r, warnings } = mergeRuns([shard(1, { modules: mods }), shard(3, { modules: mods })]);
    expect(warnings[0]).toContain('module(s) not loaded: b.ko');
    expect(r.documents.find((d) => d.origin?.module === 'b.ko')?.tests[0]?.status).toBe('not-run');
  });
  test('refusals: the same shard twice, a test in two inputs, other kernel images, other plans, other N', () => {
    expect(refusal([shard(1), { ...shard(1), path: 'again.json' }, shard(2)])).toMatch(/s1\.json and again\.json are both shard 1\/3/);
    const overlap = shard(2);
    overlap.result.documents[0]!.tests.push(suite('sa'));
    expect(refusal([shard(1), overlap])).toMatch(/test sa\.t1 is in both s1\.json and s2\.json/);
    expect(refusal([shard(1), shard(2, { kernelHash: 'h2' }, { ...meta, kernelHash: 'h2' })])).toMatch(
      /s1\.json and s2\.json are runs of different kernel images/,
    );
    expect(refusal([shard(1), shard(2, { parts: [1, 1, 2, 3] })])).toMatch(/planned differently/);
    expect(refusal([shard(1), shard(2, { total: 4 })])).toMatch(/planned differently/);
    expect(refusal([shard(1), shard(1)])).toMatch(/given twice/);
    expect(refusal([])).toMatch(/nothing to merge/);
  });
  test('an unknown schemaVersion, or not a results.json: exit 2 naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-merge-'));
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ schemaVersion: 99, documents: [], counts: {} }));
    expect(() => readResults(dir)).toThrow(/results\.json: schemaVersion 99 is not one/);
    writeFileSync(join(dir, 'bad.json'), '{');
    expect(() => readResults(join(dir, 'bad.json'))).toThrow(/bad\.json: not JSON/);
  });
  test('a results.json round-trips through the reader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-merge-'));
    const r = shard(2).result;
    writeFileSync(join(dir, 'results.json'), jsonReporter.render(r));
    const back = readResults(dir).result;
    expect(jsonReporter.render(back)).toBe(jsonReporter.render(r));
  });
  test('several architectures: groups named by arch and kernel; JUnit suites prefixed with the arch', () => {
    const arm = { arch: 'arm64', kernelVersion: '6.12.117', kernelHash: 'h9' };
    const { result: r } = mergeRuns([
      { path: 'x.json', result: result([suite('sa')], meta) },
      { path: 'a.json', result: result([suite('sa', 'fail')], arm) },
    ]);
    expect(r.groups!.map((g) => g.name)).toEqual(['x86_64 6.12.117', 'arm64 6.12.117']);
    expect(r.documents.map((d) => d.origin?.group)).toEqual([0, 1]);
    expect(r.verdict).toBe('failed');
    expect(r.counts.total).toBe(4);
    const xml = junitReporter.render(r);
    expect(xml).toContain('name="x86_64.sa"');
    expect(xml).toContain('name="arm64.sa"');
    const tap = tapReporter.render(r);
    expect(tap.indexOf('# group: x86_64 6.12.117')).toBeLessThan(tap.indexOf('# group: arm64 6.12.117'));
    // One group: no prefix.
    expect(junitReporter.render(mergeRuns([shard(1), shard(2), shard(3)]).result)).toContain('name="sa"');
  });
});

describe('merge --known / --baseline', () => {
  const write = (dir: string, name: string, r: RunResult): string => {
    const p = join(dir, name);
    writeFileSync(p, jsonReporter.render(r));
    return p;
  };
  test("a known entry for one arch keeps that group's failure from failing the merge; the other arch still fails", async () => {
    const { mergeCommand } = await import('../../runner/commands/merge.js');
    const dir = mkdtempSync(join(tmpdir(), 'kb-merge-'));
    const arm = { arch: 'arm64', kernelVersion: '6.12.117', kernelHash: 'h9' };
    const x = write(dir, 'x.json', result([suite('sa')], meta));
    const a = write(dir, 'a.json', result([suite('sa', 'fail')], arm));
    const known = join(dir, 'known.yaml');
    writeFileSync(known, '- test: sa.t1\n  status: failed\n  arch: [arm64]\n  reason: fails on arm64\n');
    const quiet = { quiet: true, warn: () => {}, write: () => {} };
    const gated = await mergeCommand({ inputs: [x, a], reports: { markdown: join(dir, 'summary.md') }, gate: { known }, ...quiet });
    expect(gated.verdict).toBe('passed');
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('fails on arm64');
    writeFileSync(known, '- test: sa.t1\n  status: failed\n  arch: [x86_64]\n  reason: not this one\n');
    expect((await mergeCommand({ inputs: [x, a], reports: {}, gate: { known }, ...quiet })).verdict).toBe('failed');
    // Against a baseline where it failed already: still failing, not a regression.
    const base = write(
      dir,
      'base.json',
      mergeRuns([
        { path: 'x', result: result([suite('sa')], meta) },
        { path: 'a', result: result([suite('sa', 'fail')], arm) },
      ]).result,
    );
    expect((await mergeCommand({ inputs: [x, a], reports: {}, gate: { baseline: base }, ...quiet })).verdict).toBe('passed');
  });
});
