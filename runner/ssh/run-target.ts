/**
 * `kunit-bridge run --target ssh://…`: KUnit on a kernel that is already
 * running. Connect (host key verified), preflight, stage the test modules,
 * then one TargetSession: the boot's built-in suites from /dev/kmsg, the
 * steps of the plan, the results folded like the agent's (origins,
 * attempts, flaky), the same reports and exit code as `run`. docs/targets.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { findModules } from '../agent/boot.js';
import { foldAttempts, type StepRecord } from '../agent/attempts.js';
import type { AgentStep } from '../../agent/protocol.js';
import { BridgeError } from '../errors.js';
import { ExitCode, runExitCode } from '../exit-codes.js';
import { parseLog, type KtapDocument, type RunResult, type TestNode, type TestStatus } from '../ktap/index.js';
import type { RunOutcome, RunRequest } from '../run-request.js';
import { writeFileAtomic } from '../write-file.js';
import { connect, defaultKnownHosts, type ConnectOptions, type Connection } from './connection.js';
import { readModule, upload, vermagicProblem, type ModuleInfo } from './modules.js';
import { parsePreflight, preflightMetadata, preflightProblems, PREFLIGHT_SCRIPT, type Preflight } from './preflight.js';
import { StepPlan } from './plan.js';
import { Remote, shellQuote, TargetLog } from './remote.js';
import { TargetSession, type StepDone, type TargetSessionResult } from './session.js';
import { parseTarget } from './target-url.js';

/** KUnit's glob (`*`, `?`) on the suite part of `suite[.test]`. */
export function suiteMatches(glob: string, suite: string): boolean {
  const part = glob.split('.')[0] ?? glob;
  return new RegExp(
    `^${part
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(suite);
}

function placeholderDoc(name: string, status: TestStatus, reason: string, origin: KtapDocument['origin']): KtapDocument {
  const test: TestNode = { name, status, reason, log: [], children: [], attributes: {}, line: 0 };
  return { index: 0, tests: [test], log: [], complete: true, startLine: 0, endLine: 0, attributes: {}, ...(origin ? { origin } : {}) };
}

/** The innermost tests left open when the session ended early: `crashed`, with why. */
function markCrashed(result: RunResult, why: string): string | undefined {
  let named: string | undefined;
  const visit = (node: TestNode, path: string[]): boolean => {
    if (node.status !== 'incomplete') return false;
    const here = [...path, node.name];
    const deeper = node.children.some((c) => visit(c, here));
    if (!deeper) {
      named ??= here.join('.');
      node.status = 'crashed';
      node.reason = `${why.startsWith('target rebooted') ? `target rebooted during ${here.join('.')}` : why}`;
    } else if (node.status === 'incomplete') {
      node.status = 'crashed';
    }
    return true;
  };
  for (const d of result.documents) for (const t of d.tests) visit(t, []);
  return named;
}

/** The preflight's findings; undefined when the connection went during it. */
async function preflight(remote: Remote): Promise<Preflight | undefined> {
  const r = await remote.run(PREFLIGHT_SCRIPT);
  if (r.status === null) return undefined;
  if (r.status !== 0)
    throw new BridgeError(
      'E_SSH_PREFLIGHT',
      `the preflight on the target failed (exit status ${r.status}): ${r.stderr.trim().split('\n').pop() ?? ''}`,
    );
  return parsePreflight(r.stdout);
}

interface Staged {
  module: ModuleInfo;
  remotePath: string;
}

/** Check each module's vermagic, upload it over SFTP, compare the hash on the target. */
async function stageModules(
  conn: Connection,
  remote: Remote,
  modules: ModuleInfo[],
  pre: Preflight,
  refused: Map<string, string>,
): Promise<Staged[]> {
  const ok = modules.filter((m) => {
    const problem = vermagicProblem(m, pre);
    if (problem) refused.set(basename(m.file), problem);
    return !problem;
  });
  if (ok.length === 0) return [];
  const dir = await remote.run('mktemp -d /run/kunit-bridge.XXXXXX 2>/dev/null || mktemp -d /tmp/kunit-bridge.XXXXXX');
  const remoteDir = dir.stdout.trim();
  if (dir.status !== 0 || !remoteDir.startsWith('/')) {
    throw new BridgeError(
      'E_SSH_UPLOAD',
      `cannot make a directory for the modules on the target (mktemp in /run and /tmp failed): ${dir.stderr.trim()}`,
    );
  }
  const staged: Staged[] = [];
  for (const m of ok) {
    const remotePath = `${remoteDir}/${basename(m.file)}`;
    await upload(conn.client, m.bytes, remotePath);
    const sum = await remote.run(`sha256sum ${shellQuote(remotePath)}`);
    const theirs = sum.stdout.trim().split(/\s+/)[0];
    if (theirs !== m.sha256) {
      throw new BridgeError(
        'E_SSH_UPLOAD',
        `${basename(m.file)} arrived on the target with sha256 ${theirs ?? '?'}, not ${m.sha256}: the upload is corrupt`,
      );
    }
    staged.push({ module: m, remotePath });
  }
  return staged;
}

export async function runTarget(req: RunRequest & { target: string }, warn: (m: string) => void): Promise<RunOutcome> {
  const cwd = req.cwd ?? process.cwd();
  const target = parseTarget(req.target);
  if (req.kernel) throw new BridgeError('E_USAGE', '--target and --kernel do not go together: the target runs its own kernel');
  if (req.list)
    throw new BridgeError(
      'E_USAGE',
      "--list is not supported with --target (the suites of a live kernel are in results.json's targetSuites)",
    );
  const repeat = Math.max(1, req.repeat ?? 1);
  const moduleFiles = req.modules?.length ? findModules(req.modules, cwd) : [];
  const modules = moduleFiles.map(readModule);
  const outputDir = resolve(
    cwd,
    req.output ?? join('kunit-bridge-out', new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')),
  );
  mkdirSync(outputDir, { recursive: true });
  const log = new TargetLog(join(outputDir, 'target.log'));
  const kmsgLogPath = join(outputDir, 'kmsg.log');
  const rawLogs = [join(outputDir, 'target.log')];
  const connectOpts: ConnectOptions = {
    target,
    hostKeys: {
      knownHosts: resolve(cwd, req.knownHosts ?? defaultKnownHosts()),
      ...(req.hostKey ? { pinned: req.hostKey } : {}),
      ...(req.acceptNewHostKey ? { acceptNew: true } : {}),
    },
    ...(req.identities?.length ? { identities: req.identities.map((i) => resolve(cwd, i)) } : {}),
    ...(req.sshReadyTimeoutS ? { readyTimeoutMs: req.sshReadyTimeoutS * 1000 } : {}),
    ...(req.sshKeepaliveS ? { keepaliveMs: req.sshKeepaliveS * 1000 } : {}),
  };
  log.note(`connecting to ${target.display}`);
  const t0 = Date.now();
  let conn: Connection;
  try {
    conn = await connect(connectOpts);
  } catch (err) {
    log.note(`connect failed: ${(err as Error).message}`);
    throw err;
  }
  const connectMs = Date.now() - t0;
  log.note(`connected in ${connectMs} ms; host key ${conn.hostKey.keyType} ${conn.hostKey.fingerprint} (${conn.hostKey.how})`);
  if (conn.hostKey.how === 'recorded')
    warn(
      `recorded the host key of ${target.display} (${conn.hostKey.keyType} ${conn.hostKey.fingerprint}) in ${connectOpts.hostKeys.knownHosts}`,
    );
  let pre: Preflight | undefined;
  const refused = new Map<string, string>();
  let staged: Staged[] = [];
  let remote: Remote;
  // The preflight again on a new connection when the first one drops during it (a few times).
  for (let attempt = 1; ; attempt++) {
    remote = new Remote(conn.client, log);
    try {
      pre = await preflight(remote);
    } catch (err) {
      conn.close();
      throw err;
    }
    if (pre || attempt >= 5) break;
    log.note('the connection went during the preflight: connecting again');
    conn.close();
    await new Promise((r) => setTimeout(r, 250 * attempt));
    conn = await connect(connectOpts);
  }
  if (!pre) throw new BridgeError('E_SSH_PREFLIGHT', `the connection to ${target.display} kept dropping during the preflight`);
  const problems = preflightProblems(pre, { reruns: req.filterGlob !== undefined || repeat > 1, modules: modules.length > 0 });
  for (const p of problems) {
    warn(p);
    log.note(`preflight: ${p}`);
  }
  if (!pre.kmsg) {
    conn.close();
    throw new BridgeError('E_SSH_PREFLIGHT', problems.find((p) => p.includes('/dev/kmsg')) ?? '/dev/kmsg cannot be read');
  }
  const canRerun = pre.kunitDebugfs;
  const reruns = req.filterGlob !== undefined && canRerun ? pre.suites.filter((s) => suiteMatches(req.filterGlob!, s)) : [];
  if (req.filterGlob !== undefined && canRerun && reruns.length === 0)
    warn(`--filter ${req.filterGlob}: no suite of the target's matches it (debugfs has ${pre.suites.length})`);
  const plan = new StepPlan({
    writes: req.guestWrites ?? [],
    reruns,
    // An unset filter_glob reads "(null)" and cannot be set back to unset: "*" does the same.
    ...(req.filterGlob !== undefined && pre.filterGlob !== undefined
      ? { moduleGlob: req.filterGlob, restoreGlob: pre.filterGlob === '(null)' ? '*' : pre.filterGlob }
      : {}),
    modules: [],
    repeat: canRerun ? repeat : 1,
  });
  req.onPlan?.([{ index: 0, suites: [], estimatedMs: 0 }], undefined, { target: target.display, outputDir, transport: 'ssh' });
  const session = new TargetSession({
    connection: conn,
    connect: connectOpts,
    bootId: pre.bootId,
    log,
    kmsgLogPath,
    plan,
    runId: randomBytes(4).toString('hex'),
    debugfsResults: pre.kunitDebugfs,
    // The modules go over while the boot's records stream in.
    beforeSteps: async (r, c) => {
      staged = modules.length && pre.tools.includes('insmod') ? await stageModules(c, r, modules, pre, refused) : [];
      for (const why of refused.values()) {
        warn(why);
        log.note(why);
      }
      plan.addModules(staged.map((m) => ({ path: m.remotePath, name: m.module.name })));
    },
    timeoutMs: (req.timeoutS ?? 0) * 1000,
    stallTimeoutMs: (req.stallTimeoutS ?? 0) * 1000,
    ...(req.reconnectTimeoutS !== undefined ? { reconnectWindowMs: req.reconnectTimeoutS * 1000 } : {}),
    ...(req.onEvent ? { onEvent: (e) => req.onEvent!(e, 0) } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    warn,
  });
  const s = await session.run();
  rawLogs.push(kmsgLogPath);
  const result = foldTarget(s, {
    repeat: canRerun ? repeat : 1,
    staged,
    refused,
    rerunsImpossible:
      req.filterGlob !== undefined && !canRerun
        ? preflightProblems(pre, { reruns: true, modules: false }).find((p) => /debugfs|kunit/.test(p))
        : undefined,
    filterGlob: req.filterGlob,
  });
  if (s.ending !== 'done' && s.ending !== 'interrupted' && s.why)
    warn(
      s.ending === 'rebooted'
        ? `the target rebooted (its boot id changed)${s.current ? ` during step ${s.current.planned.id}` : ''}: the rest of the run is not-run`
        : s.why,
    );
  log.note(
    `session ended: ${s.ending}${s.why ? ` (${s.why})` : ''}; ${s.cursor.records} kernel log records, ${s.cursor.duplicates} repeated after reconnects, ${s.cursor.gaps.length} gaps, ${s.reconnects} reconnects`,
  );
  Object.assign(result.metadata, {
    transport: 'ssh',
    target: target.display,
    hostKey: `${conn.hostKey.keyType} ${conn.hostKey.fingerprint}`,
    hostKeyCheck: conn.hostKey.how,
    ...preflightMetadata(pre, problems),
    ending: s.ending,
    connectMs: String(connectMs),
    reconnects: String(s.reconnects),
    ...(s.firstResultAt ? { firstResultMs: String(s.firstResultAt - t0) } : {}),
    stepHostMs: s.steps.map((st) => `${st.planned.id}:${st.hostMs ?? '?'}`).join(' '),
    kmsgRecords: String(s.cursor.records),
    kmsgGaps: String(s.cursor.gaps.length),
    kmsgLastSeq: String(s.cursor.lastSeq),
    repeat: String(repeat),
    modules: String(modules.length),
  });
  const [{ writeReports }, { jsonReporter }] = await Promise.all([import('../reports.js'), import('../../reporters/json.js')]);
  writeFileAtomic(join(outputDir, 'results.json'), jsonReporter.render(result));
  writeReports(result, req.reports ?? {});
  let exitCode: number = runExitCode(result.verdict, s.ending === 'lost');
  if (req.signal?.aborted) exitCode = req.signal.reason === 'SIGTERM' ? ExitCode.SIGTERM : ExitCode.SIGINT;
  return { result, exitCode, outputDir, rawLogs };
}

/**
 * Without the documents other kunit-bridge runs printed on this boot (their steps' re-runs and
 * modules, in the log before this run): the step's document indices move down with them.
 */
function dropForeign(s: TargetSessionResult): TargetSessionResult {
  if (s.foreignDocs.length === 0) return s;
  const foreign = new Set(s.foreignDocs);
  const shift = (i: number): number => i - s.foreignDocs.filter((f) => f < i).length;
  const documents = s.result.documents.filter((_, i) => !foreign.has(i)).map((d, i) => ({ ...d, index: i }));
  const steps = s.steps.map((st) => ({
    ...st,
    firstDoc: shift(st.firstDoc),
    ...(st.endDoc !== undefined ? { endDoc: shift(st.endDoc) } : {}),
  }));
  const current = s.current ? steps[s.steps.indexOf(s.current)] : undefined;
  const diagnostics = [
    ...s.result.diagnostics,
    {
      code: 'unexpected-line' as const,
      severity: 'info' as const,
      line: 0,
      message: `${foreign.size} document(s) that earlier kunit-bridge runs printed on this boot were left out`,
    },
  ];
  return { ...s, result: { ...s.result, documents, diagnostics }, steps, ...(current ? { current } : {}) };
}

interface FoldTargetOptions {
  repeat: number;
  staged: Staged[];
  refused: Map<string, string>;
  /** Why --filter could not re-run anything (no debugfs). */
  rerunsImpossible?: string;
  filterGlob?: string;
}

/** The session's steps folded into its result: re-run documents, module documents, attempts, what never ran. */
/**
 * The boot's suites from debugfs `results` when the ring lost the start of the boot: they replace
 * the documents the log had before the first step (a partial boot document, at best).
 */
function bootFromDebugfs(s: TargetSessionResult): TargetSessionResult {
  if (!s.bootResults) return s;
  const parsed = parseLog(s.bootResults.text);
  const tests = parsed.documents.flatMap((d) => d.tests);
  if (tests.length === 0) return s;
  const n = s.bootResults.firstDoc;
  const boot: KtapDocument = {
    index: 0,
    format: 'KTAP',
    version: 1,
    plan: tests.length,
    tests,
    log: [],
    complete: parsed.documents.every((d) => d.complete),
    startLine: 0,
    endLine: 0,
    attributes: {},
    origin: { kind: 'boot' },
  };
  const documents = [boot, ...s.result.documents.slice(n)].map((d, i) => ({ ...d, index: i }));
  const shift = (i: number): number => Math.max(0, i - n) + 1;
  const steps = s.steps.map((st) => ({
    ...st,
    firstDoc: shift(st.firstDoc),
    ...(st.endDoc !== undefined ? { endDoc: shift(st.endDoc) } : {}),
  }));
  const current = s.current ? steps[s.steps.indexOf(s.current)] : undefined;
  const diagnostics = [
    ...s.result.diagnostics.filter((d) => d.code !== 'incomplete-output' || n === 0),
    {
      code: 'incomplete-output' as const,
      severity: 'warning' as const,
      line: 0,
      message: `the kernel log no longer holds the start of the boot (it begins at seq ${s.cursor.gaps[0]?.next ?? '?'}): the boot's ${tests.length} suites come from their debugfs results, which hold each suite's last run`,
    },
  ];
  // KTAP was found after all: the verdict is decided again when the steps are folded in.
  const verdict = s.result.verdict === 'no-ktap' ? 'incomplete' : s.result.verdict;
  return {
    ...s,
    result: { ...s.result, documents, diagnostics: diagnostics.filter((d) => d.code !== 'no-ktap'), verdict },
    steps,
    foreignDocs: [],
    ...(current ? { current } : {}),
  };
}

export function foldTarget(session: TargetSessionResult, o: FoldTargetOptions): RunResult {
  const s = dropForeign(bootFromDebugfs(session));
  const result = s.result;
  const early = s.ending !== 'done';
  if (early && s.why && s.ending !== 'stall' && s.ending !== 'timeout') markCrashed(result, s.why);
  // Documents of --filter re-runs are documents of their own.
  for (const st of s.steps) {
    if (st.planned.step.op !== 'rerun') continue;
    for (let d = st.firstDoc; d < (st.endDoc ?? result.documents.length); d++) {
      const doc = result.documents[d];
      if (doc) doc.origin = { kind: 'rerun' };
    }
  }
  const extra: KtapDocument[] = [];
  // A step cut short before it printed any KTAP: its suite or module is named as crashed.
  const cur: StepDone | undefined = s.current;
  if (early && cur && (cur.endDoc ?? result.documents.length) === cur.firstDoc && s.why) {
    const st = cur.planned.step;
    const reason =
      s.ending === 'rebooted' ? `target rebooted during ${'suite' in st ? st.suite : 'path' in st ? basename(st.path) : st.op}` : s.why;
    if (st.op === 'rerun') extra.push(placeholderDoc(st.suite, 'crashed', reason, { kind: 'rerun' }));
    if (st.op === 'insmod') extra.push(placeholderDoc(basename(st.path), 'crashed', reason, { kind: 'module', module: basename(st.path) }));
  }
  const records: StepRecord[] = s.steps
    .filter((st) => st.planned.step.op !== 'rerun')
    .map((st) => ({
      id: st.planned.id,
      step: st.planned.step as AgentStep,
      firstDoc: st.firstDoc,
      ...(st.planned.attempt ? { attempt: st.planned.attempt } : {}),
      ...(st.endDoc !== undefined ? { endDoc: st.endDoc } : {}),
      ...(st.status !== undefined
        ? {
            outcome: { status: st.status, ms: st.ms ?? 0, ...(st.note ? { note: st.note } : {}), ...(st.missing ? { missing: true } : {}) },
          }
        : {}),
    }));
  const done = new Set(
    s.steps.filter((st) => st.planned.step.op === 'insmod').map((st) => basename((st.planned.step as { path: string }).path)),
  );
  const withExtra: RunResult = { ...result, documents: [...result.documents, ...extra] };
  const cutShort = early ? (s.why ?? s.ending) : undefined;
  const folded = foldAttempts(withExtra, {
    steps: records,
    repeat: o.repeat,
    modulesNotLoaded: o.staged.map((m) => basename(m.module.file)).filter((m) => !done.has(m)),
    ...(cutShort ? { cutShort } : {}),
  });
  // Modules refused before insmod (vermagic), and --filter without debugfs: not-run, with why.
  const notRun: KtapDocument[] = [...o.refused].map(([file, why]) =>
    placeholderDoc(file, 'not-run', why, { kind: 'module', module: file }),
  );
  if (o.rerunsImpossible && o.filterGlob !== undefined)
    notRun.push(placeholderDoc(o.filterGlob, 'not-run', `not re-run: ${o.rerunsImpossible}`, { kind: 'rerun' }));
  const all =
    notRun.length === 0 ? folded : foldAttempts({ ...folded, documents: [...folded.documents, ...notRun] }, { steps: [], repeat: 1 });
  // A run that ended before its steps were done is not complete, whatever the tests that ran say.
  if (early && (all.verdict === 'passed' || all.verdict === 'failed' || all.verdict === 'no-tests')) {
    all.diagnostics.push({
      code: 'incomplete-output',
      severity: 'error',
      line: 0,
      message: `the run ended before its work was done: ${s.why ?? s.ending}`,
    });
    all.verdict = 'incomplete';
  }
  return all;
}
