/**
 * `kunit-bridge run`: boot a kernel with KUnit tests in QEMU (one or several
 * instances), show results live, leave the raw console logs and the reports
 * behind whatever happens. A library function: no argv, no process.exit.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BridgeError } from '../errors.js';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { emptyCounts, type KtapEvent, type RunResult } from '../ktap/model.js';
import { parseTestList, type ListedSuite } from '../ktap/test-list.js';
import { mergeLanes } from '../merge.js';
import { buildQemuCommand, type KunitParams } from '../qemu/argv.js';
import { initialAccel, rememberKvm, type AccelChoice } from '../qemu/accel.js';
import { findKernel } from '../qemu/find-kernel.js';
import { hostArch, normalizeArch, PROFILES, type Arch } from '../qemu/profiles.js';
import type { ReportRequest } from '../reports.js';
import { runSession, type SessionResult } from '../session.js';
import { guessCost, isolatedLanes, planLanes, type Lane } from '../shard.js';
import { fileHash, readCache, writeCache } from '../cache.js';
import { writeFileAtomic } from '../write-file.js';
import { AgentLane, ModuleQueue } from '../agent/lane.js';
import type { AgentServer } from '../agent/server.js';
import { foldAttempts } from '../agent/attempts.js';
import { agentConfigGaps, agentFiles, agentInitArgs, findModules, kernelConfig, type AgentFiles } from '../agent/boot.js';

export interface RunRequest {
  kernel?: string;
  arch?: string;
  qemu?: string;
  qemuArgs?: string[];
  memoryMb?: number;
  smp?: number;
  initrd?: string;
  append?: string[];
  accel?: AccelChoice;
  filterGlob?: string;
  filterAttr?: string;
  filterAction?: 'skip';
  /** Print the tests instead of running them. */
  list?: boolean;
  /** Whole-run limit, seconds (0: none). */
  timeoutS?: number;
  /** No KTAP progress for this long means the kernel hung, seconds (0: none). */
  stallTimeoutS?: number;
  runIsolated?: 'suite' | 'test';
  /** At most this many QEMU instances at once (default: 1). */
  jobs?: number;
  /**
   * The user asked for `jobs` explicitly: shard even without history. Otherwise
   * a run shards only when recorded timings say the work outweighs a listing boot.
   */
  jobsExplicit?: boolean;
  /** Output directory (default ./kunit-bridge-out/<timestamp>/). */
  output?: string;
  reports?: ReportRequest;
  /** How long a KVM boot may stay silent before falling back to TCG (ms, default 5000). */
  kvmProbeMs?: number;
  signal?: AbortSignal;
  /** Live events of every lane (the console view, the live feed). */
  onEvent?: (event: KtapEvent, lane: number) => void;
  /** Raw console bytes (for --raw). */
  onRaw?: (chunk: Buffer, lane: number) => void;
  /** One-line warnings and notes (stderr). */
  warn?: (message: string) => void;
  /** Told the lanes (and the kernel's test list, when it was needed) before the tests start. */
  onPlan?: (lanes: Lane[], suites: ListedSuite[] | undefined, metadata: Record<string, string>) => void;
  cwd?: string;
  /**
   * Boot into the in-guest agent (the host's root over 9p, Node in the guest): KTAP over
   * WebSocket from /dev/kmsg, module loads, repeats. Implied by `modules` and `repeat` > 1.
   */
  agent?: boolean;
  /** Test modules to load in the guest: directories (searched recursively) or .ko files. */
  modules?: string[];
  /** Run every suite this many times in one boot (attempts 2..N through debugfs). */
  repeat?: number;
  /** Node binary the guest runs the agent with (default: this one). */
  agentNode?: string;
  /** No word from the agent this long after QEMU starts: fall back to the console (seconds, default 60). */
  agentTimeoutS?: number;
  /** Files to write in the guest after boot, before modules and repeats: [path, value]. */
  guestWrites?: [string, string][];
  /** Tests: cut the agent's connection every this many lines (see AgentChannelOptions). */
  agentCutEveryLines?: number;
  /** `ssh://[USER@]HOST[:PORT]`: run on that live kernel instead of booting one (runner/ssh/, docs/targets.md). */
  target?: string;
  /** Private key files for the target (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa; plus the agent). */
  identities?: string[];
  /** known_hosts file (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Accept only this host key: `SHA256:…`. */
  hostKey?: string;
  /** Record an unknown host key (trust on first use); a changed one is still refused. */
  acceptNewHostKey?: boolean;
  /** Keep reconnecting to the target this long after the connection drops (seconds, default 30). */
  reconnectTimeoutS?: number;
  /** SSH handshake limit and keepalive interval (seconds; defaults 10 and 2). */
  sshReadyTimeoutS?: number;
  sshKeepaliveS?: number;
}

/** The glob a module-only lane boots with: it matches no suite, so only the modules' tests run. */
const NO_SUITE_GLOB = 'kunit-bridge-no-builtin-suites';

export interface RunOutcome {
  result: RunResult;
  exitCode: number;
  outputDir: string;
  rawLogs: string[];
  /** `kunit.action=list` output, for --list. */
  listed?: ListedSuite[];
}

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

/**
 * The report writers pull in every reporter (junit-report-builder among them): about 60 ms.
 * They are loaded while the first QEMU boots, not before it starts.
 */
let reportModules: Promise<[typeof import('../reports.js'), typeof import('../../reporters/json.js')]> | undefined;
function loadReportModules(): typeof reportModules & object {
  reportModules ??= Promise.all([import('../reports.js'), import('../../reporters/json.js')]);
  return reportModules;
}

function joinFilters(...f: (string | undefined)[]): string | undefined {
  const parts = f.filter((x): x is string => x !== undefined && x !== '');
  return parts.length ? parts.join(',') : undefined;
}

export async function runCommand(req: RunRequest): Promise<RunOutcome> {
  const warn = req.warn ?? ((m: string) => process.stderr.write(`kunit-bridge: ${m}\n`));
  if (req.target !== undefined) return (await import('../ssh/run-target.js')).runTarget({ ...req, target: req.target }, warn);
  const cwd = req.cwd ?? process.cwd();
  let arch: Arch | undefined;
  if (req.arch !== undefined) {
    arch = normalizeArch(req.arch);
    if (!arch) throw new BridgeError('E_USAGE', 'cli', ExitCode.USAGE, `unknown --arch ${req.arch} (use x86_64, arm64 or riscv64)`);
  } else {
    arch = hostArch();
    if (!arch) throw new BridgeError('E_USAGE', 'cli', ExitCode.USAGE, `this host (${process.arch}) is not x86_64, arm64 or riscv64: pass --arch`);
  }
  const profile = PROFILES[arch];
  const kernel = findKernel(arch, req.kernel, cwd);
  // Usage errors before anything is started or created.
  const repeat = Math.max(1, req.repeat ?? 1);
  const modules = req.modules?.length ? findModules(req.modules, cwd) : [];
  const outputDir = resolve(cwd, req.output ?? join('kunit-bridge-out', timestamp()));
  mkdirSync(outputDir, { recursive: true });
  const qemu = req.qemu ?? profile.qemu;
  const first = initialAccel(req.accel ?? 'auto', qemu, arch === hostArch());
  if (first.note) warn(first.note);
  let accel = first.accel;
  let probe = first.probe;
  const deadline = req.timeoutS ? Date.now() + req.timeoutS * 1000 : undefined;
  const rawLogs: string[] = [];
  let firstCmdline = '';

  let useAgent = (req.agent === true || modules.length > 0 || repeat > 1 || (req.guestWrites?.length ?? 0) > 0) && !req.list;
  let files: AgentFiles | undefined;
  if (useAgent) {
    files = agentFiles();
    const config = kernelConfig(kernel);
    const gaps = config ? agentConfigGaps(config, arch, modules.length > 0) : [];
    if (gaps.length === 0 && repeat > 1 && config && !/^CONFIG_KUNIT_DEBUGFS=y$/m.test(config)) {
      warn('--repeat needs CONFIG_KUNIT_DEBUGFS (the suites\' debugfs run files), which the kernel\'s config lacks: every suite will run once');
    }
    if (gaps.length > 0) {
      warn(`the kernel's config lacks ${gaps.join(', ')}: the in-guest agent cannot run in it (docs/agent.md); running over the serial console only`
        + (modules.length ? `; the ${modules.length} module(s) are not loaded` : '') + (repeat > 1 ? '; no repeats' : ''));
      useAgent = false;
    }
  }
  const queue = new ModuleQueue(useAgent ? modules : []);
  // `ws` and the server only when needed: a serial run starts QEMU without loading them (27 ms).
  const agentServer: AgentServer | undefined = useAgent ? await (await import('../agent/server.js')).AgentServer.start() : undefined;
  const agentFailures: string[] = [];
  let lanesTotal = 1;
  try {

  const boot = async (logName: string, kunit: KunitParams, lane: number, agentOpts?: { resetGlob?: string }): Promise<SessionResult> => {
    for (;;) {
      const rawLogPath = join(outputDir, logName);
      const agentLane = agentServer && agentOpts ? new AgentLane({
        server: agentServer, logPath: rawLogPath.replace(/console(-lane-\d+)?\.log$/, 'agent$1.log'), modules: queue, repeat,
        helloTimeoutMs: (req.agentTimeoutS ?? 60) * 1000, writes: req.guestWrites ?? [],
        ...(agentOpts.resetGlob !== undefined ? { resetGlob: agentOpts.resetGlob } : {}),
        ...(req.agentCutEveryLines ? { cutEveryLines: req.agentCutEveryLines } : {}),
      }) : undefined;
      const cmd = buildQemuCommand({
        arch: arch!, kernel, accel, memoryMb: req.memoryMb, smp: req.smp, initrd: req.initrd,
        append: req.append, qemuArgs: req.qemuArgs, qemu, kunit, serialFile: rawLogPath,
        ...(agentLane ? { agent: { initArgs: agentInitArgs(files!, req.agentNode ?? process.execPath, agentServer!.port, agentLane.channel.token) } } : {}),
      }, existsSync);
      firstCmdline ||= cmd.cmdline;
      const remaining = deadline !== undefined ? Math.max(1, deadline - Date.now()) : 0;
      const onEvent = agentLane
        ? (e: KtapEvent): void => { agentLane.onEvent(e); req.onEvent?.(e, lane); }
        : req.onEvent ? (e: KtapEvent): void => req.onEvent!(e, lane) : undefined;
      let s: SessionResult;
      try {
        s = await runSession({
          command: cmd, debianPackage: profile.debianPackage, rawLogPath,
          timeoutMs: remaining, stallTimeoutMs: (req.stallTimeoutS ?? 0) * 1000,
          kvmProbeMs: probe ? req.kvmProbeMs ?? 5000 : undefined,
          onEvent,
          onRaw: req.onRaw ? (c) => req.onRaw!(c, lane) : undefined,
          signal: req.signal,
          ...(agentLane ? { agent: agentLane.hooks() } : {}),
        });
      } catch (err) {
        agentLane?.release();
        throw err;
      }
      if (agentLane) {
        agentLane.settle(s.ending, s.panicked);
        if (agentLane.failure && s.ending !== 'kvm-dead' && s.ending !== 'qemu-failed') {
          const where = lanesTotal > 1 ? `lane ${lane + 1}: ` : '';
          agentFailures.push(agentLane.failure);
          warn(`${where}${agentLane.failure}; ${agentLane.channel.firstHelloAt === undefined ? 'the results' : 'the rest'} come from the serial console (${rawLogPath})`);
        }
        s.result = agentLane.fold(s.result);
      }
      if (s.ending === 'kvm-dead') {
        const why = s.exit?.code ? `QEMU exited with status ${s.exit.code}: ${s.stderr.trim().split('\n').pop() ?? ''}` : `no kernel output within ${(req.kvmProbeMs ?? 5000) / 1000} s`;
        warn(`KVM did not boot the kernel (${why}); falling back to TCG`);
        renameSync(rawLogPath, rawLogPath.replace(/\.log$/, '.kvm-failed.log'));
        rawLogs.push(rawLogPath.replace(/\.log$/, '.kvm-failed.log'));
        rememberKvm(qemu, false);
        accel = 'tcg';
        probe = false;
        continue;
      }
      rawLogs.push(rawLogPath);
      if (agentLane) rawLogs.push(agentLane.logPath);
      if (probe && s.sawKernel) {
        rememberKvm(qemu, true);
        probe = false;
      }
      if (s.ending === 'qemu-failed') {
        const last = s.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit status ${s.exit?.code}`;
        throw new BridgeError('E_QEMU_FAILED', 'qemu', ExitCode.INFRA,
          `QEMU failed before the kernel printed anything: ${last} (raw log: ${rawLogPath})`);
      }
      return s;
    }
  };

  const userKunit: KunitParams = { filterGlob: req.filterGlob, filter: req.filterAttr, filterAction: req.filterAction };
  // Hashing the image is only needed for the cache: not before a single-lane boot starts.
  let hash: string | undefined;
  const kernelKey = (): string => (hash ??= fileHash(kernel).slice(0, 16));
  const listKey = (): string => `lists/${kernelKey()}-${Buffer.from(`${req.filterGlob ?? ''}\u0000${req.filterAttr ?? ''}`).toString('base64url')}.json`;
  const getList = async (): Promise<ListedSuite[]> => {
    const cached = req.list ? undefined : readCache<ListedSuite[]>(listKey());
    if (cached) return cached;
    const s = await boot('console-list.log', { ...userKunit, filterAction: undefined, action: 'list_attr' }, -1);
    const listed = parseTestList(readFileSync(join(outputDir, 'console-list.log'), 'utf8'));
    if (s.ending === 'exited' && listed.length > 0) writeCache(listKey(), listed);
    return listed;
  };

  if (req.list) {
    const listed = await getList();
    const result: RunResult = { documents: [], diagnostics: [], counts: emptyCounts(), verdict: listed.length ? 'passed' : 'no-tests', lines: 0, metadata: {} };
    return { result, exitCode: req.signal?.aborted ? ExitCode.SIGINT : listed.length ? ExitCode.OK : ExitCode.INCOMPLETE, outputDir, rawLogs, listed };
  }

  const jobs = Math.max(1, req.jobs ?? 1);
  const timingsKey = (): string => `timings/${kernelKey()}.json`;
  // Without -j, a single boot needs no history: read it only when sharding is possible.
  const timings = jobs > 1 || req.runIsolated ? readCache<Record<string, number>>(timingsKey()) ?? {} : {};
  let lanes: Lane[] = [{ index: 0, suites: [], estimatedMs: 0 }];
  let suites: ListedSuite[] | undefined;
  const known = Object.values(timings).reduce((a, b) => a + b, 0);
  // With test modules, -j first spreads the modules (each lane boots, then takes modules from a
  // shared queue); the built-in suites are split only when their history says they are heavy.
  const modulesToShare = queue.all.length > 0;
  if (req.runIsolated || (jobs > 1 && ((req.jobsExplicit && !modulesToShare) || known > 3000))) {
    suites = await getList();
    if (suites.length === 0 && !req.signal?.aborted) warn('the kernel listed no tests for these filters: running it once as is');
    const cost = (s: ListedSuite): number => timings[s.name] ?? guessCost(s);
    lanes = suites.length === 0 ? lanes : req.runIsolated ? isolatedLanes(suites, req.runIsolated, cost) : planLanes(suites, jobs, cost, req.filterGlob);
  }
  if (modulesToShare && req.jobsExplicit) {
    const extra = Math.min(jobs - lanes.length, queue.all.length - 1);
    for (let i = 0; i < extra; i++) lanes.push({ index: lanes.length, suites: [], estimatedMs: 0, modulesOnly: true });
  }
  lanesTotal = lanes.length;
  req.onPlan?.(lanes, suites, { arch, kernel, accel, qemu, outputDir, ...(useAgent ? { agent: 'yes', modules: String(queue.all.length), repeat: String(repeat) } : {}) });

  const laneResults: { lane: number; result: RunResult; session?: SessionResult }[] = [];
  const single = lanes.length === 1;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lanes.length && !req.signal?.aborted) {
      const lane = lanes[next++]!;
      const kunit: KunitParams = single && !req.runIsolated ? userKunit : lane.modulesOnly ? { ...userKunit, filterGlob: NO_SUITE_GLOB } : {
        ...userKunit,
        filterGlob: lane.filterGlob ?? req.filterGlob,
        filter: joinFilters(req.filterAttr, lane.filter),
      };
      const name = single ? 'console.log' : `console-lane-${String(lane.index + 1).padStart(2, '0')}.log`;
      const booting = boot(name, kunit, lane.index, !useAgent ? undefined
        : lane.modulesOnly ? { resetGlob: req.filterGlob ?? '*' }
        // A lane that booted with a glob of its own gives the modules the user's back.
        : lane.filterGlob !== undefined && lane.filterGlob !== req.filterGlob ? { resetGlob: req.filterGlob ?? '*' } : {});
      // While QEMU boots: load the report writers and hash the image for the timing cache.
      void loadReportModules();
      kernelKey();
      const s = await booting;
      laneResults.push({ lane: lane.index, result: s.result, session: s });
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, lanes.length) }, () => worker()));
  laneResults.sort((a, b) => a.lane - b.lane);

  let result = single && laneResults.length === 1
    ? laneResults[0]!.result
    : mergeLanes(laneResults, (suites ?? []).map((s) => s.name), lanes.map((l) => l.suites), queue.all.map((m) => basename(m)));
  if (useAgent && laneResults.length > 1) {
    // The lanes' agent figures, summed; the agent's state is the worst lane's.
    const metas = laneResults.map((l) => l.result.metadata);
    const sum = (k: string): string => String(metas.reduce((n, m) => n + Number(m[k] ?? 0), 0));
    const states = metas.map((m) => m['agent'] ?? 'not started');
    Object.assign(result.metadata, {
      agent: ['not started', 'lost', 'finished'].find((st) => states.includes(st)) ?? 'finished',
      agentLines: sum('agentLines'), agentConnects: sum('agentConnects'), agentDuplicatesIgnored: sum('agentDuplicatesIgnored'),
      ...(metas.some((m) => m['agentCuts']) ? { agentCuts: sum('agentCuts') } : {}),
    });
  }
  // Modules no lane loaded (every agent failed, or the run was cut short) are not-run, not absent.
  const notLoaded = useAgent ? [...queue.left] : modules;
  if (notLoaded.length > 0) {
    result = foldAttempts(result, {
      steps: [], repeat: 1, modulesNotLoaded: notLoaded.map((m) => basename(m)),
      cutShort: req.signal?.aborted ? 'interrupted' : agentFailures[0] ?? (useAgent ? 'the run ended first' : 'the agent could not run in this kernel'),
    });
  }
  Object.assign(result.metadata, {
    arch, kernel, accel, qemu, cmdline: firstCmdline.replace(/--token \S+/, '--token …'), lanes: String(lanes.length),
    endings: laneResults.map((l) => l.session?.ending ?? 'exited').join(','),
    ...(useAgent ? { transport: 'agent', repeat: String(repeat), modules: String(modules.length) } : { transport: 'serial' }),
  });

  // Timings for the next plan: top-level suite durations.
  const fresh: Record<string, number> = {};
  for (const d of result.documents) for (const t of d.tests) if (t.durationMs !== undefined && t.status !== 'not-run') fresh[t.name] = t.durationMs;
  writeCache(timingsKey(), { ...readCache<Record<string, number>>(timingsKey()), ...fresh });

  const [{ writeReports }, { jsonReporter }] = await loadReportModules();
  writeFileAtomic(join(outputDir, 'results.json'), jsonReporter.render(result));
  writeReports(result, req.reports ?? {});
  let exitCode: number = exitCodeFor(result.verdict);
  if (req.signal?.aborted) exitCode = req.signal.reason === 'SIGTERM' ? ExitCode.SIGTERM : ExitCode.SIGINT;
  return { result, exitCode, outputDir, rawLogs };
  } finally {
    await agentServer?.stop();
  }
}
