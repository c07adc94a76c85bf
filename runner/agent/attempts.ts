/**
 * What the agent's steps did, folded into the result: documents get their
 * origin (boot, module), debugfs re-runs become attempts 2..N of the suite
 * they re-ran (and leave the document list), a test's status becomes the
 * worst of its attempts, and a test that both passed and failed is flaky.
 * Pure.
 */
import {
  countLeaves,
  emptyCounts,
  type Attempt,
  type Diagnostic,
  type KtapDocument,
  type RunResult,
  type TestNode,
  type TestStatus,
} from '../ktap/model.js';
import { PASSING_STATUSES, SHOWN_FAILING, verdictFor, worstOf } from '../ktap/status.js';
import type { AgentStep, StepOutcome } from '../../agent/protocol.js';

/** A step as the runner handed it out, and what came of it. */
export interface StepRecord {
  id: number;
  step: AgentStep;
  /** For `run` steps: which attempt of the suite this is (2..N). */
  attempt?: number;
  /** Documents started before the step was handed out, and when it was reported done. */
  firstDoc: number;
  endDoc?: number;
  outcome?: StepOutcome;
}

export interface FoldOptions {
  steps: readonly StepRecord[];
  /** Attempts asked for (--repeat), 1 when not repeating. */
  repeat: number;
  /** The guest came to an end before every step was done (the steps not handed out did not run). */
  cutShort?: string;
  /** Modules that were meant to be loaded in this lane but never were. */
  modulesNotLoaded?: readonly string[];
}

/** The reason of an attempt the run ended before. */
const NEVER_RAN = 'the run ended before this attempt';

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

function attemptOf(node: TestNode, attempt: number, before?: Attempt): Attempt {
  const a: Attempt = { attempt, status: node.status };
  if (node.reason) a.reason = node.reason;
  if (node.durationMs !== undefined) a.durationMs = node.durationMs;
  // 6.12 does not run a test again that was skipped in the suite's previous run: it reports
  // `# SKIP` with an empty reason. That is no outcome of its own.
  if (attempt > 1 && node.status === 'skip' && !node.reason && node.children.length === 0 && before?.status === 'skip') a.ran = false;
  return a;
}

/** Give `node` its attempts: `reruns[k]` is its counterpart in attempt k + 2 (undefined: not run). */
function applyAttempts(node: TestNode, reruns: (TestNode | undefined)[]): void {
  const first = attemptOf(node, 1);
  const attempts: Attempt[] = [first];
  reruns.forEach((r, i) => {
    const prev = attempts[attempts.length - 1];
    attempts.push(r ? attemptOf(r, i + 2, prev?.ran === false ? first : prev) : { attempt: i + 2, status: 'not-run', reason: NEVER_RAN });
  });
  for (const child of node.children) {
    // A crash before a test's result line leaves a `#N` placeholder in that attempt's tree.
    applyAttempts(
      child,
      reruns.map((r) => r?.children.find((c) => c.name === child.name) ?? r?.children.find((c) => c.name === `#${child.number}`)),
    );
  }
  // The worst outcome among the attempts that ran: one that never ran (the run ended first) changes
  // no status; it makes the run incomplete instead (see foldAttempts).
  // (`not-run` in a later attempt: that attempt never reached the test, whether the whole attempt was
  // missed or the run stopped in the middle of it.)
  const counted = attempts.filter((a) => a.ran !== false && !(a.attempt > 1 && a.status === 'not-run'));
  const worst = worstOf(counted)!;
  node.attempts = attempts;
  if (worst !== first) {
    node.status = worst.status;
    if (worst.reason) node.reason = `attempt ${worst.attempt}: ${worst.reason}`;
    else delete node.reason;
    // A test that crashed in a later attempt carries that crash (its document is folded away), so it
    // is reported once, on the test, and not again as a crash outside any test.
    const crash = reruns[worst.attempt - 2]?.crash;
    if (worst.status === 'crashed' && crash && !node.crash) node.crash = crash;
  }
  const flaky =
    (counted.some((a) => PASSING_STATUSES.has(a.status)) && counted.some((a) => SHOWN_FAILING.has(a.status))) ||
    node.children.some((c) => c.flaky);
  if (flaky) node.flaky = true;
}

function placeholder(name: string, status: TestStatus, reason: string): TestNode {
  return { name, status, reason, log: [], children: [], attributes: {}, line: 0 };
}

export function foldAttempts(result: RunResult, opts: FoldOptions): RunResult {
  const docStep = new Map<number, StepRecord>();
  for (const s of opts.steps) {
    const end = s.endDoc ?? result.documents.length;
    for (let d = s.firstDoc; d < end; d++) docStep.set(d, s);
  }
  const diagnostics: Diagnostic[] = [...result.diagnostics];
  const note = (severity: Diagnostic['severity'], code: Diagnostic['code'], message: string, path?: string): void => {
    diagnostics.push({ code, message, line: 0, severity, ...(path ? { path } : {}) });
  };
  const documents: KtapDocument[] = [];
  /** Re-run suite nodes by suite name, per attempt. */
  const reruns = new Map<string, Map<number, TestNode>>();
  result.documents.forEach((doc, i) => {
    const step = docStep.get(i);
    if (step?.step.op === 'run') {
      const suite = doc.tests.find((t) => t.name === (step.step as { suite: string }).suite) ?? doc.tests[0];
      if (suite) {
        const byAttempt = reruns.get(suite.name) ?? new Map<number, TestNode>();
        byAttempt.set(step.attempt ?? 2, suite);
        reruns.set(suite.name, byAttempt);
      }
      return;
    }
    documents.push({
      ...doc,
      origin: step?.step.op === 'insmod' ? { kind: 'module', module: baseName(step.step.path) } : (doc.origin ?? { kind: 'boot' }),
    });
  });

  // Writes that failed: the run did not happen as asked.
  for (const s of opts.steps) {
    if (s.step.op === 'write' && s.outcome && s.outcome.status !== 0) {
      note(
        'error',
        'missing-result',
        `writing ${JSON.stringify(s.step.value)} to ${s.step.path} in the guest failed: ${s.outcome.note ?? `status ${s.outcome.status}`}`,
      );
    }
  }
  // Module loads that failed, or loaded nothing to test.
  for (const s of opts.steps) {
    if (s.step.op !== 'insmod') continue;
    const module = baseName(s.step.path);
    if (!s.outcome) continue; // cut short: the crash or timeout is in the document it started
    if (s.outcome.status !== 0) {
      note('error', 'missing-result', `loading ${module} failed: ${s.outcome.note ?? `status ${s.outcome.status}`}`);
      documents.push({
        index: 0,
        tests: [placeholder(module, 'not-run', `insmod failed: ${s.outcome.note ?? `status ${s.outcome.status}`}`)],
        log: [],
        complete: true,
        startLine: 0,
        endLine: 0,
        attributes: {},
        origin: { kind: 'module', module },
      });
    } else if (s.endDoc === s.firstDoc) {
      note('info', 'no-ktap', `${module} loaded but ran no KUnit suite (none in it, or all filtered out)`);
    }
  }
  for (const module of opts.modulesNotLoaded ?? []) {
    const why = opts.cutShort ? `not loaded: ${opts.cutShort}` : 'not loaded';
    documents.push({
      index: 0,
      tests: [placeholder(module, 'not-run', why)],
      log: [],
      complete: true,
      startLine: 0,
      endLine: 0,
      attributes: {},
      origin: { kind: 'module', module },
    });
  }

  let attemptsMissing = false;
  if (opts.repeat > 1) {
    const noRunFile = new Set<string>();
    for (const s of opts.steps) {
      if (s.step.op === 'run' && s.outcome?.missing) noRunFile.add(s.step.suite);
    }
    for (const suite of noRunFile) {
      note(
        'info',
        'missing-result',
        `${suite} ran once: it has no debugfs run file (an __init suite, or all its tests were filtered out)`,
        suite,
      );
    }
    for (const doc of documents) {
      for (const suite of doc.tests) {
        if (noRunFile.has(suite.name) || suite.status === 'not-run') continue;
        const byAttempt = reruns.get(suite.name);
        const list: (TestNode | undefined)[] = [];
        for (let k = 2; k <= opts.repeat; k++) list.push(byAttempt?.get(k));
        applyAttempts(suite, list);
        if (list.some((r) => r === undefined)) {
          attemptsMissing = true;
          note(
            'warning',
            'missing-result',
            `${suite.name}: ${list.filter((r) => r === undefined).length} of ${opts.repeat} attempts did not run${opts.cutShort ? ` (${opts.cutShort})` : ''}`,
            suite.name,
          );
        }
      }
    }
  }

  documents.forEach((d, i) => {
    d.index = i;
  });
  const counts = emptyCounts();
  for (const d of documents) for (const t of d.tests) countLeaves(t, counts);
  let verdict = verdictFor(counts, documents, result.verdict !== 'no-ktap', result.crash);
  // Attempts asked for and never run: the statuses show what ran; the run is still not complete.
  if (attemptsMissing && (verdict === 'passed' || verdict === 'failed' || verdict === 'no-tests')) verdict = 'incomplete';
  return { ...result, documents, diagnostics, counts, verdict };
}
