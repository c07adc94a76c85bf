/**
 * The live page's model (runner/live/page/model.js, plain browser JavaScript, imported as is), fed the
 * messages the real feed serialises for real logs: the conformance corpus and the fixture kernels' boot
 * logs, each parsed by KtapStream, turned into messages by messageFor and published into a LiveFeed.
 * What the page would show must be what parseLog says: counts, verdict, the failures, the crash.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { KtapStream, parseLog, type RunResult, type TestNode } from '../../../../runner/ktap/index.js';
import type { Counts } from '../../../../runner/ktap/model.js';
import { crashOutsideTests, isShownFailing } from '../../../../runner/ktap/status.js';
import { LiveFeed } from '../../../../runner/live/feed.js';
import { pageStatusScript } from '../../../../runner/live/page-status.js';
import { messageFor } from '../../../../runner/live/protocol.js';
import { corpus, kernelFixture, REPO } from '../../../helpers/corpus.js';

/** The part of model.js this test reads (the module is plain JavaScript, without types). */
interface PageNode {
  path: string[];
  status: string;
  leaf?: boolean;
  log: string[];
  children: PageNode[];
  crash?: { line: number };
}
interface PageModel {
  run: {
    lastSeq: number;
    roots: PageNode[];
    nodes: Map<string, PageNode>;
    running: Map<number, PageNode>;
    end: { verdict: string; counts: Counts } | null;
    diagnostics: unknown[];
  };
  apply(m: unknown): void;
  takeChanges(): { nodes: Set<PageNode>; header: boolean; failures: boolean; notes: boolean; structure: boolean };
  hasChanges(): boolean;
  runCounts(): Counts;
  progress(): { done: number; total: number | undefined };
  failures(): PageNode[];
  crashOutside(): { line: number } | null;
  whyFailed(n: PageNode): string;
  flaky(): string[];
}
const { createModel } = (await import(pathToFileURL(join(REPO, 'runner/live/page/model.js')).href)) as {
  createModel(rules: unknown): PageModel;
};

/** The status rules exactly as the page gets them: status.js's text, run as the browser would. */
function pageRules(): unknown {
  const scope: { KUNIT_BRIDGE_STATUS?: unknown } = {};
  new Function('globalThis', pageStatusScript())(scope);
  return scope.KUNIT_BRIDGE_STATUS;
}

/** The feed of a run of `log`, as the page receives it: run-start, every event's message, run-end. */
function recordFeed(log: Buffer, result: RunResult): unknown[] {
  const feed = new LiveFeed();
  const suites = result.documents.reduce((n, d) => n + d.tests.length, 0);
  feed.publish({ type: 'run-start', lanes: 1, suitesTotal: suites, metadata: { kernel: 'bzImage', arch: 'x86_64' } });
  const stream = new KtapStream({
    onEvent: (e) => {
      const m = messageFor(e, 0);
      if (m) feed.publish(m);
    },
  });
  for (const line of log.toString('latin1').split(/(?<=\n)/)) stream.write(Buffer.from(line, 'latin1'));
  const streamed = stream.finish();
  expect(streamed.counts).toEqual(result.counts);
  feed.publish({ type: 'run-end', counts: streamed.counts, verdict: streamed.verdict, exitCode: 1 });
  return feed.since(0).map((json) => JSON.parse(json) as unknown);
}

/** The failures parseLog's tree shows: shown failing, with nothing shown failing below (that one is listed). */
function expectedFailures(result: RunResult): string[] {
  const out: string[] = [];
  const failingBelow = (n: TestNode): boolean => n.children.some((c) => isShownFailing(c.status) || failingBelow(c));
  const walk = (n: TestNode, path: string[]): void => {
    const p = [...path, n.name];
    if (isShownFailing(n.status) && !failingBelow(n)) out.push(p.join('/'));
    for (const c of n.children) walk(c, p);
  };
  for (const d of result.documents) for (const t of d.tests) walk(t, []);
  return out.sort();
}

/** Every node of parseLog's tree, as `path status`. */
function treeNodes(result: RunResult): string[] {
  const out: string[] = [];
  const walk = (n: TestNode, path: string[]): void => {
    const p = [...path, n.name];
    out.push(`${p.join('/')} ${n.status}`);
    for (const c of n.children) walk(c, p);
  };
  for (const d of result.documents) for (const t of d.tests) walk(t, []);
  return out.sort();
}

const paths = (nodes: PageNode[]): string[] => nodes.map((n) => n.path.join('/')).sort();

const LOGS = corpus();

test('the recordings cover the corpus and the fixture kernels', () => {
  expect(LOGS.length).toBeGreaterThan(20);
  expect(LOGS.some((l) => l.path === kernelFixture('x86_64-rust-kunit', 'boot.log'))).toBe(true);
});

describe.each(LOGS.map((l) => [l.name, l.path] as const))('%s', (_name, file) => {
  const log = readFileSync(file);
  const result = parseLog(log);
  const messages = recordFeed(log, result);
  const end = messages.length - 1;

  test("before run-end, the tree's counts are parseLog's; after it, the verdict and the failures are too", () => {
    const model = createModel(pageRules());
    for (const m of messages.slice(0, end)) model.apply(m);
    expect(model.run.lastSeq).toBe(end);
    expect(model.run.end).toBeNull();
    // Counted from the tree the messages built, not taken from run-end.
    expect(model.runCounts()).toEqual(result.counts);
    const suites = result.documents.reduce((n, d) => n + d.tests.length, 0);
    expect(model.progress()).toEqual({ done: model.run.roots.filter((r) => r.status !== 'running').length, total: suites });

    model.apply(messages[end]);
    expect(model.run.end?.verdict).toBe(result.verdict);
    expect(model.runCounts()).toEqual(result.counts);
    expect(model.run.running.size).toBe(0);
    expect(paths(model.failures())).toEqual(expectedFailures(result));
    // No crash made up. (The parser emits no event for a crash outside any test, so the feed carries it only
    // as run-end's verdict: see the synthetic test below for the page's side.)
    if (model.crashOutside() !== null) expect(crashOutsideTests(result)).toBeDefined();
    for (const n of model.failures()) expect(typeof model.whyFailed(n)).toBe('string');
    expect(model.run.diagnostics.length).toBe(messages.filter((m) => (m as { type: string }).type === 'diagnostic').length);
    expect(model.flaky()).toEqual([]);
  });

  test("every test once: the nodes are parseLog's tree, each with its status, none left running", () => {
    const model = createModel(pageRules());
    for (const m of messages) model.apply(m);
    expect([...model.run.nodes.values()].map((n) => `${n.path.join('/')} ${n.status}`).sort()).toEqual(treeNodes(result));
  });
});

test("the fixture kernel's run: 186 passed, 1 failed, 5 skipped, the one failure and why", () => {
  const log = readFileSync(kernelFixture('x86_64-rust-kunit', 'boot.log'));
  const result = parseLog(log);
  const model = createModel(pageRules());
  for (const m of recordFeed(log, result)) model.apply(m);
  expect(model.runCounts()).toMatchObject({ passed: 186, failed: 1, skipped: 5, crashed: 0 });
  expect(model.run.end?.verdict).toBe('failed');
  const failures = model.failures();
  expect(paths(failures)).toEqual(['rust_kunit_fixture/rust_fixture_fail']);
  expect(failures.map((n) => model.whyFailed(n))).toEqual([expect.stringContaining('Expected answer == 43 to be true, but is false')]);
});

test('what changed: the nodes and their ancestors, the header, the failures, new nodes; nothing once taken', () => {
  const model = createModel(pageRules());
  model.apply({ v: 1, seq: 1, time: 0, type: 'run-start', lanes: 1, metadata: {} });
  expect(model.takeChanges()).toMatchObject({ header: true, structure: false });
  model.apply({ v: 1, seq: 2, time: 0, type: 'document-start', lane: 0, document: 0 });
  expect(model.hasChanges()).toBe(false);
  model.apply({ v: 1, seq: 3, time: 0, type: 'suite-start', lane: 0, path: ['s'] });
  model.apply({ v: 1, seq: 4, time: 0, type: 'result', lane: 0, path: ['s', 't'], status: 'fail', leaf: true, reason: 'boom' });
  const c = model.takeChanges();
  expect([...c.nodes].map((n) => n.path.join('/'))).toEqual(['s', 's/t']);
  expect(c).toMatchObject({ header: true, failures: true, structure: true, notes: false });
  expect(model.hasChanges()).toBe(false);
  expect(model.run.running.get(0)?.path).toEqual(['s']);
  expect(paths(model.failures())).toEqual(['s/t']);
  expect(model.failures().map((n) => model.whyFailed(n))).toEqual(['boom']);
  // A suite still running counts what its leaves said so far.
  expect(model.runCounts()).toMatchObject({ total: 1, failed: 1 });
  // A crash outside any test is listed once, unless a test carries it.
  model.apply({ v: 1, seq: 5, time: 0, type: 'crash', lane: 0, path: [], crash: { kind: 'panic', reason: 'x', line: 9 } });
  expect(model.crashOutside()).toMatchObject({ line: 9 });
  model.apply({ v: 1, seq: 6, time: 0, type: 'crash', lane: 0, path: ['s', 't'], crash: { kind: 'panic', reason: 'x', line: 9 } });
  expect(model.crashOutside()).toBeNull();
});

test('a suite is named by its result line, as the parser names it: without # Subtest:, or another name', () => {
  const log = Buffer.from(
    [
      'KTAP version 1',
      '1..2',
      '  KTAP version 1',
      '  # Subtest: started_as',
      '  1..1',
      '  not ok 1 case_a',
      'not ok 1 ended_as',
      '  KTAP version 1',
      '  1..1',
      '  ok 1 case_b',
      'ok 2 unnamed',
      '',
    ].join('\n'),
  );
  const result = parseLog(log);
  const model = createModel(pageRules());
  const messages = recordFeed(log, result);
  for (const m of messages.slice(0, -1)) model.apply(m);
  expect(treeNodes(result)).toEqual(['ended_as fail', 'ended_as/case_a fail', 'unnamed pass', 'unnamed/case_b pass']);
  expect([...model.run.nodes.values()].map((n) => `${n.path.join('/')} ${n.status}`).sort()).toEqual(treeNodes(result));
  // Counted once each, from the tree, before run-end.
  expect(model.runCounts()).toEqual(result.counts);
  expect(paths(model.failures())).toEqual(['ended_as/case_a']);
  // Later messages find the renamed nodes by their new paths: each node is under its own key.
  for (const [key, n] of model.run.nodes) expect(key.endsWith(n.path.join('\u001f'))).toBe(true);
  expect(model.run.roots.map((r) => r.path.join('/'))).toEqual(['ended_as', 'unnamed']);
});
