/**
 * Comparing a run with a baseline (`--baseline RESULTS.json`, `compare BASE NEW`).
 * Pure: two results in, the buckets out. Leaves are matched by their canonical
 * path (runner/gate/test-path.ts).
 *
 * | before (baseline)           | now                          | bucket         |
 * | --------------------------- | ---------------------------- | -------------- |
 * | pass, xfail, skip, todo     | fail, error, timeout, crashed, incomplete | regressions |
 * | absent or not-run           | failing                      | newFailures    |
 * | failing                     | pass, xfail, skip, todo      | fixed          |
 * | failing                     | failing                      | stillFailing   |
 * | absent or not-run           | pass, xfail, skip, todo      | newTests       |
 * | any but not-run             | absent or not-run            | missing (with why) |
 * | anything                    | flaky (`run --repeat`)       | flaky (and in no other bucket) |
 *
 * A test the kernel never named (`suite.#3`, it crashed first) is compared as
 * the baseline's test of that number in that suite.
 *
 * A missing test says why when it can be told: filtered out (the run's
 * `kunit.filter_glob`), outside the run's scope (another shard, through
 * `inScope`), a module not loaded, not run after a crash. Missing tests that
 * the run was told not to run (`excluded`) do not make it incomplete.
 */
import type { RunResult, TestNode, TestStatus } from '../ktap/model.js';
import { compileGlob } from './glob.js';
import { allTests, leafTests, testPath, type PathedTest } from './test-path.js';

/** Statuses that fail a test for the comparison (crashes and cut-off tests included). */
export const BAD_STATUSES: ReadonlySet<TestStatus> = new Set(['fail', 'error', 'timeout', 'crashed', 'incomplete']);

export interface ComparedTest {
  path: string;
  /** Status in the baseline (absent: not there). */
  before?: TestStatus;
  /** Status now (absent: not there). */
  now?: TestStatus;
  /** Missing tests: why, when it can be told. */
  why?: string;
  /** Missing tests: the run was told not to run it (filtered out, another shard); does not make it incomplete. */
  excluded?: boolean;
}

export interface Comparison {
  regressions: ComparedTest[];
  newFailures: ComparedTest[];
  fixed: ComparedTest[];
  stillFailing: ComparedTest[];
  newTests: ComparedTest[];
  missing: ComparedTest[];
  flaky: ComparedTest[];
}

export interface CompareOptions {
  /** The tests this run was meant to run (a shard's suites): paths outside it are `excluded` when missing. */
  inScope?: (path: string) => boolean;
}

/** `kunit.filter_glob=suite[.test]` from a run's command line, if any. */
export function filterGlobOf(result: Pick<RunResult, 'metadata'>): string | undefined {
  const m = /(?:^|\s)kunit\.filter_glob=("[^"]*"|\S+)/.exec(result.metadata['cmdline'] ?? '');
  return m ? m[1]!.replace(/^"|"$/g, '') : undefined;
}

/** Does a kernel filter glob (`suite_glob[.test_glob]`) keep this test? */
function kernelFilterKeeps(glob: string, names: readonly string[]): boolean {
  const dot = glob.indexOf('.');
  const suiteGlob = dot < 0 ? glob : glob.slice(0, dot);
  const testGlob = dot < 0 ? undefined : glob.slice(dot + 1);
  try {
    if (!compileGlob(suiteGlob).test(names[0] ?? '')) return false;
    return testGlob === undefined || names.length < 2 || compileGlob(testGlob).test(names[1]!);
  } catch {
    return true; // a glob we cannot read: do not claim it filtered anything
  }
}

const good = (s: TestStatus | undefined): boolean => s !== undefined && s !== 'not-run' && !BAD_STATUSES.has(s);
const bad = (s: TestStatus | undefined): boolean => s !== undefined && BAD_STATUSES.has(s);

/** Why a baseline test is not in `now`, and whether the run was told not to run it. */
function whyMissing(
  t: PathedTest,
  base: RunResult,
  now: RunResult,
  nowNode: TestNode | undefined,
  crashedIn: string | undefined,
  opts: CompareOptions,
): Pick<ComparedTest, 'why' | 'excluded'> {
  if (opts.inScope && !opts.inScope(t.path)) return { why: "not in this run's scope (another shard)", excluded: true };
  const glob = filterGlobOf(now);
  if (glob !== undefined && !kernelFilterKeeps(glob, t.names)) return { why: `filtered out (kunit.filter_glob=${glob})`, excluded: true };
  const module = base.documents[t.document]?.origin?.module;
  if (module) {
    const doc = now.documents.find((d) => d.origin?.module === module);
    const placeholder = doc?.tests.length === 1 && doc.tests[0]!.name === module ? doc.tests[0] : undefined;
    if (!doc || placeholder) return { why: `module ${module} not loaded${placeholder?.reason ? `: ${placeholder.reason}` : ''}` };
  }
  if (nowNode?.status === 'not-run') return { why: nowNode.reason ?? 'not run: the run ended before it' };
  if (now.verdict === 'incomplete') {
    if (crashedIn) return { why: `not run: the kernel crashed in ${crashedIn}` };
    if (now.crash) return { why: `not run: the kernel crashed (${now.crash.reason})` };
    return { why: 'not run: the run did not complete' };
  }
  return { why: 'not in this run (removed from the kernel, or not built in this config)' };
}

const UNNAMED = /^#(\d+)$/;

/** Resolve `suite.#N` leaves of `now` to the baseline's N-th test of that suite (when it has one). */
function nameUnnamed(nowTests: PathedTest[], before: Map<string, PathedTest>): PathedTest[] {
  if (!nowTests.some((t) => UNNAMED.test(t.names[t.names.length - 1]!))) return nowTests;
  const byNumber = new Map<string, string>();
  for (const t of before.values())
    if (t.node.number !== undefined) byNumber.set(`${testPath(t.names.slice(0, -1))}\u0000${t.node.number}`, t.path);
  return nowTests.map((t) => {
    const m = UNNAMED.exec(t.names[t.names.length - 1]!);
    const named = m ? byNumber.get(`${testPath(t.names.slice(0, -1))}\u0000${m[1]}`) : undefined;
    return named && !before.has(t.path) ? { ...t, path: named } : t;
  });
}

/**
 * Compare `now` with `base`; every list is in `now`'s order (missing: the baseline's).
 * `nowAll`: `allTests(now)`, when the caller has it already (a big run is walked once).
 */
export function compareResults(
  base: RunResult,
  now: RunResult,
  opts: CompareOptions = {},
  nowAll: PathedTest[] = allTests(now),
): Comparison {
  const c: Comparison = { regressions: [], newFailures: [], fixed: [], stillFailing: [], newTests: [], missing: [], flaky: [] };
  const before = new Map<string, PathedTest>();
  for (const t of leafTests(base)) before.set(t.path, t);
  const nowTests = nameUnnamed(
    nowAll.filter((t) => t.leaf),
    before,
  );
  const nowByPath = new Map<string, PathedTest>();
  const entry = (t: PathedTest, b: TestStatus | undefined): ComparedTest =>
    b === undefined ? { path: t.path, now: t.node.status } : { path: t.path, before: b, now: t.node.status };
  for (const t of nowTests) {
    nowByPath.set(t.path, t);
    const s = t.node.status;
    if (s === 'not-run') continue; // missing, below (when the baseline had it)
    const b = before.get(t.path)?.node.status;
    if (t.node.flaky) c.flaky.push(entry(t, b));
    else if (bad(s)) {
      if (good(b)) c.regressions.push(entry(t, b));
      else if (bad(b)) c.stillFailing.push(entry(t, b));
      else c.newFailures.push(entry(t, b));
    } else if (bad(b)) c.fixed.push(entry(t, b));
    else if (b === undefined || b === 'not-run') c.newTests.push(entry(t, b));
  }
  let crashedIn: string | undefined | null = null;
  for (const [path, t] of before) {
    if (t.node.status === 'not-run') continue;
    const n = nowByPath.get(path);
    if (n && n.node.status !== 'not-run') continue;
    if (crashedIn === null)
      crashedIn = (nowTests.find((x) => x.node.status === 'crashed') ?? nowAll.find((x) => x.node.status === 'crashed'))?.path;
    c.missing.push({
      path,
      before: t.node.status,
      ...(n ? { now: n.node.status } : {}),
      ...whyMissing(t, base, now, n?.node, crashedIn, opts),
    });
  }
  return c;
}
