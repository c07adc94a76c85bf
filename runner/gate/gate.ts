/**
 * The release gate: known failures (`--known`) and a baseline (`--baseline`)
 * applied to a finished run. `run`, `parse`, `merge` and `compare` all call
 * {@link applyGate}; the verdict rule itself is `gatedVerdict` in
 * runner/exit-codes.ts.
 *
 * - A failing test that an entry covers (glob over its path, arch, status,
 *   not expired) is **known**: marked on its node, not failing the run.
 *   Entry `status` covers: `failed` → fail, error; `timeout` → timeout,
 *   incomplete; `crashed` → crashed; `flaky` → a flaky test (`--repeat`) whose
 *   worst attempt failed or timed out; `any` → fail, error, timeout. So a crash
 *   or a cut-off test is only known when the entry says `crashed`/`timeout`.
 * - An entry that covers nothing is **stale**; with `strictKnown` it fails the run.
 * - An entry past `until` is **expired**: it covers nothing, a warning names it.
 * - With a baseline only regressions and new failures fail the run; missing
 *   tests (not excluded) make it incomplete.
 *
 * The result is changed in place: nodes get `known`, `result.gate` is set and
 * `result.verdict` becomes the gate's (the tests' own is `gate.testVerdict`).
 * Applying it again replaces what an earlier call marked.
 */
import { gatedVerdict } from '../exit-codes.js';
import { FAILING_STATUSES, INCOMPLETE_STATUSES, type RunResult, type TestNode } from '../ktap/model.js';
import { compareResults, BAD_STATUSES, type CompareOptions } from './compare.js';
import { isExpired, type KnownEntry } from './known.js';
import type { ExpiredEntry, GateOutcome, GateTest, KnownHit, KnownMark, StaleEntry } from './outcome.js';
import { allTests, type PathedTest } from './test-path.js';

export interface GateOptions {
  /** Entries of a known file (runner/gate/known.ts). */
  known?: KnownEntry[];
  knownFile?: string;
  /** The baseline run (runner/gate/results-file.ts). */
  baseline?: RunResult;
  baselineFile?: string;
  /** Today, for `until` (default: the current time). */
  now?: Date;
  /** The architecture of the run, or of each document (a merge of several); default `metadata.arch`. */
  arch?: string | ((document: number) => string | undefined);
  /** Stale entries fail the run. */
  strictKnown?: boolean;
  /** With a baseline: the tests this run was meant to run (see CompareOptions). */
  inScope?: CompareOptions['inScope'];
}

/** Does an entry's status cover a test's? */
export function statusCovers(entry: KnownEntry['status'], node: TestNode): boolean {
  const s = node.status;
  switch (entry) {
    case 'failed':
      return s === 'fail' || s === 'error';
    case 'timeout':
      return s === 'timeout' || s === 'incomplete';
    case 'crashed':
      return s === 'crashed';
    case 'flaky':
      return node.flaky === true && FAILING_STATUSES.has(s);
    case 'any':
      return FAILING_STATUSES.has(s);
  }
}

/** The tests the gate judges: leaves, and parents that failed on their own (no bad leaf under them). */
function judged(all: PathedTest[]): PathedTest[] {
  const badBelow = new Set<string>();
  for (const t of all) {
    if (t.leaf && BAD_STATUSES.has(t.node.status)) {
      for (let i = 1; i < t.names.length; i++) badBelow.add(`${t.document}\u0000${t.names.slice(0, i).join('\u0000')}`);
    }
  }
  return all.filter((t) => t.leaf || (BAD_STATUSES.has(t.node.status) && !badBelow.has(`${t.document}\u0000${t.names.join('\u0000')}`)));
}

const mark = (e: KnownEntry): KnownMark => ({
  test: e.test,
  entry: e.where,
  status: e.status,
  ...(e.reason !== undefined ? { reason: e.reason } : {}),
  ...(e.bug !== undefined ? { bug: e.bug } : {}),
  ...(e.until !== undefined ? { until: e.until } : {}),
});

/** Why an entry covered nothing: what the tests it matches did. */
function staleWhy(e: KnownEntry, tests: PathedTest[]): string {
  const matching = tests.filter((t) => e.pattern.test(t.base));
  if (matching.length === 0) return 'no test matches';
  const shown = matching
    .slice(0, 5)
    .map((t) => `${t.path} ${t.node.status}`)
    .join(', ');
  const more = matching.length > 5 ? ` and ${matching.length - 5} more` : '';
  return `${matching.some((t) => BAD_STATUSES.has(t.node.status)) ? `status ${e.status} does not cover` : 'matching tests did not fail'}: ${shown}${more}`;
}

/**
 * A suite or parameterised test that is bad only because of known children is
 * marked with its first known child's mark, so that no report (a TAP parent's
 * test point, a JUnit suite) shows it failing. Returns whether an unknown bad
 * test remains under (or at) `node`, and the first mark found.
 */
function markParents(node: TestNode): { unknownBad: boolean; mark?: KnownMark } {
  if (node.children.length === 0) {
    return { unknownBad: !node.known && BAD_STATUSES.has(node.status), ...(node.known ? { mark: node.known } : {}) };
  }
  let unknownBad = false;
  let mark: KnownMark | undefined;
  for (const c of node.children) {
    const r = markParents(c);
    unknownBad ||= r.unknownBad;
    mark ??= r.mark;
  }
  if (node.known) return { unknownBad, mark: node.known };
  if (BAD_STATUSES.has(node.status) && !unknownBad && mark) node.known = mark;
  else if (BAD_STATUSES.has(node.status) && !mark) unknownBad = true; // failed on its own, judged as such
  return { unknownBad, ...(mark ? { mark } : {}) };
}

/** Apply known entries and a baseline to `result` (in place); returns the outcome, also at `result.gate`. */
export function applyGate(result: RunResult, opts: GateOptions): GateOutcome {
  const now = opts.now ?? new Date();
  const archOf =
    typeof opts.arch === 'function' ? opts.arch : (): string | undefined => (opts.arch as string | undefined) ?? result.metadata['arch'];
  const entries = opts.known ?? [];
  const warnings: string[] = [];
  const all = allTests(result);
  // Gating again (a merge of gated results) starts from the tests' own truth.
  if (result.gate) result.verdict = result.gate.testVerdict;
  for (const t of all) delete t.node.known;
  const tests = judged(all);
  const used = new Set<KnownEntry>();
  const expiredHits = new Map<KnownEntry, string[]>();
  const known: KnownHit[] = [];
  let archWarned = false;

  for (const t of tests) {
    const failing = BAD_STATUSES.has(t.node.status) || t.node.flaky === true;
    if (!failing) continue;
    const arch = archOf(t.document);
    for (const e of entries) {
      if (!e.pattern.test(t.base) || !statusCovers(e.status, t.node)) continue;
      if (e.arch) {
        if (arch === undefined) {
          if (!archWarned)
            warnings.push(
              `${e.where}: the entry is for ${e.arch.join(', ')} but the run's architecture is not known (parse: pass --arch): it does not apply`,
            );
          archWarned = true;
          continue;
        }
        if (!(e.arch as string[]).includes(arch)) continue;
      }
      if (isExpired(e.until, now)) {
        expiredHits.set(e, [...(expiredHits.get(e) ?? []), t.path]);
        continue;
      }
      used.add(e);
      t.node.known = mark(e);
      known.push({ path: t.path, status: t.node.status, known: t.node.known });
      break;
    }
  }

  const arches = new Set(result.documents.map((d) => archOf(d.index)));
  for (const d of result.documents) for (const t of d.tests) markParents(t);
  const expired: ExpiredEntry[] = [];
  const stale: StaleEntry[] = [];
  for (const e of entries) {
    const extra = { ...(e.reason !== undefined ? { reason: e.reason } : {}), ...(e.bug !== undefined ? { bug: e.bug } : {}) };
    if (isExpired(e.until, now)) {
      const hit = expiredHits.get(e) ?? [];
      expired.push({ entry: e.where, test: e.test, until: e.until!, ...extra, tests: hit });
      warnings.push(
        `${e.where}: known entry "${e.test}" expired on ${e.until}${hit.length ? `: ${hit.join(', ')} fail${hit.length === 1 ? 's' : ''} as usual` : ''}`,
      );
    } else if (!used.has(e)) {
      // Another architecture's entry is not stale here.
      if (e.arch && !arches.has(undefined) && !e.arch.some((a) => arches.has(a))) continue;
      stale.push({ entry: e.where, test: e.test, ...extra, why: staleWhy(e, tests) });
    }
  }

  const comparison = opts.baseline ? compareResults(opts.baseline, result, opts.inScope ? { inScope: opts.inScope } : {}, all) : undefined;
  const gateFailing = comparison ? new Set([...comparison.regressions, ...comparison.newFailures].map((c) => c.path)) : undefined;
  const failing: GateTest[] = [];
  const incomplete: GateTest[] = [];
  for (const t of tests) {
    if (t.node.known) continue;
    const s = t.node.status;
    if (INCOMPLETE_STATUSES.has(s)) incomplete.push({ path: t.path, status: s });
    else if (FAILING_STATUSES.has(s) && (gateFailing === undefined || gateFailing.has(t.path))) failing.push({ path: t.path, status: s });
  }
  const anyIncompleteTest = tests.some((t) => INCOMPLETE_STATUSES.has(t.node.status));
  const anyFailingTest = tests.some((t) => FAILING_STATUSES.has(t.node.status));
  const testVerdict = result.verdict;
  const verdict = gatedVerdict(testVerdict, {
    // A run that failed with no test to blame (a kernel crash outside any test) still fails.
    failing: failing.length + (result.verdict === 'failed' && !anyFailingTest ? 1 : 0),
    // An incomplete run with no test to blame (a document cut short between tests, attempts never run) stays incomplete.
    incomplete: incomplete.length > 0 || (testVerdict === 'incomplete' && !anyIncompleteTest),
    missing: comparison ? comparison.missing.filter((m) => !m.excluded).length : 0,
    strictStale: opts.strictKnown ? stale.length : 0,
  });
  const outcome: GateOutcome = {
    testVerdict,
    verdict,
    ...(opts.knownFile !== undefined ? { knownFile: opts.knownFile } : {}),
    ...(opts.baselineFile !== undefined ? { baselineFile: opts.baselineFile } : {}),
    strictKnown: opts.strictKnown === true,
    ...(typeof opts.arch !== 'function' && archOf(0) !== undefined ? { arch: archOf(0)! } : {}),
    known,
    stale,
    expired,
    failing,
    incomplete,
    ...(comparison ? { comparison } : {}),
    warnings,
  };
  result.gate = outcome;
  result.verdict = verdict;
  return outcome;
}
