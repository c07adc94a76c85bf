/** Small hand-built results for the gate's tests: `suite.test` → status, one document per call. */
import { verdictFor } from '../../../runner/ktap/status.js';
import { countLeaves, emptyCounts, type KtapDocument, type RunResult, type TestNode } from '../../../runner/ktap/model.js';

export const leaf = (name: string, status: TestNode['status'], extra: Partial<TestNode> = {}): TestNode => ({
  name,
  status,
  log: [],
  children: [],
  attributes: {},
  line: 1,
  ...extra,
});

const BAD = new Set(['fail', 'error', 'timeout', 'crashed', 'incomplete']);

/** A suite whose status is the worst of its cases, as the kernel prints it. */
export function suite(name: string, cases: TestNode[]): TestNode {
  const status = cases.find((c) => c.status === 'crashed')?.status ?? (cases.some((c) => BAD.has(c.status)) ? 'fail' : 'pass');
  return leaf(name, status, { children: cases.map((c, i) => ({ ...c, number: i + 1 })) });
}

/** A result from `{ 'suite.test': status }` (suites in first-seen order); extra documents appended as given. */
export function result(
  tests: Record<string, TestNode['status'] | TestNode>,
  opts: { metadata?: Record<string, string>; docs?: KtapDocument[] } = {},
): RunResult {
  const suites = new Map<string, TestNode[]>();
  for (const [path, s] of Object.entries(tests)) {
    const [suiteName, ...rest] = path.split('.');
    const list = suites.get(suiteName!) ?? [];
    list.push(typeof s === 'string' ? leaf(rest.join('.'), s) : { ...s, name: rest.join('.') });
    suites.set(suiteName!, list);
  }
  const doc: KtapDocument = {
    index: 0,
    tests: [...suites].map(([n, c]) => suite(n, c)),
    log: [],
    complete: true,
    startLine: 1,
    endLine: 1,
    attributes: {},
  };
  const documents = [doc, ...(opts.docs ?? [])].map((d, i) => ({ ...d, index: i }));
  const counts = emptyCounts();
  for (const d of documents) for (const t of d.tests) countLeaves(t, counts);
  return { documents, diagnostics: [], counts, verdict: verdictFor(counts, documents, true), lines: 1, metadata: opts.metadata ?? {} };
}
