/**
 * `kunit-bridge run`: boot a kernel with KUnit tests in QEMU (one or several
 * instances), show results live, leave the raw console logs and the reports
 * behind whatever happens. A library function: no argv, no process.exit.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { BridgeError } from '../errors.js';
import type { RunOutcome, RunRequest } from '../run-request.js';

export type { RunOutcome, RunRequest } from '../run-request.js';
import { ExitCode, exitCodeFor, exitCodeForSignal } from '../exit-codes.js';
import { emptyCounts, type KtapEvent, type RunResult } from '../ktap/model.js';
import { parseTestList, type ListedSuite } from '../ktap/test-list.js';
import { mergeLanes } from '../merge.js';
import { buildQemuCommand, type KunitParams } from '../qemu/argv.js';
import { initialAccel, rememberKvm } from '../qemu/accel.js';
import { findKernel } from '../qemu/find-kernel.js';
import { hostArch, normalizeArch, PROFILES, type Arch } from '../qemu/profiles.js';
import { runSession, type SessionResult } from '../session.js';
import { guessCost, isolatedLanes, planLanes, type Lane } from '../shard.js';
import { fileHash, readCache, writeCache } from '../cache.js';
import { createOutputDir } from '../output-dir.js';
import { orphanGuard, SERIAL_FD_PATH } from '../qemu/process.js';
import { planShardLanes, shardModulesOf, shardScope } from '../shard-run.js';
import { readTimings, saveTimings } from '../timings.js';
import { bannerMetadata } from '../kernel-version.js';
import { AgentLane, ModuleQueue } from '../agent/lane.js';
import type { AgentServer } from '../agent/server.js';
import { foldAttempts } from '../agent/attempts.js';
import { wantsGate } from '../gate/request.js';
import { agentConfigGaps, agentFiles, agentInitArgs, findModules, kernelConfig, tokenBase, type AgentFiles } from '../agent/boot.js';

/** The glob a module-only lane boots with: it matches no suite, so only the modules' tests run. */
const NO_SUITE_GLOB = 'kunit-bridge-no-builtin-suites';

/**
 * The report writers pull in every reporter (junit-report-builder among them): about 60 ms.
 * They are loaded while the first QEMU boots, not before it starts.
 */
let reportModules: Promise<[typeof import('../reports.js')]> | undefined;
function loadReportModules(): typeof reportModules & object {
  reportModules ??= Promise.all([import('../reports.js')]);
  return reportModules;
}

/** The head of the first raw log that has one: enough for the kernel's banner. */
function headOf(logs: string[]): string {
  for (const l of logs) {
    try {
      const text = readFileSync(l, 'utf8');
      if (text.includes('Linux version')) return text.slice(0, 1 << 20);
    } catch {
      // a log that is gone has no banner
    }
  }
  return '';
}

/** A shard with nothing to run (fewer suites than shards): no boot, nothing failed. */
function emptyShardResult(): RunResult {
  return { documents: [], diagnostics: [], counts: emptyCounts(), verdict: 'passed', lines: 0, metadata: {} };
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
    if (!arch) throw new BridgeError('E_USAGE', `unknown --arch ${req.arch} (use x86_64, arm64 or riscv64)`);
  } else {
    arch = hostArch();
    if (!arch) throw new BridgeError('E_USAGE', `this host (${process.arch}) is not x86_64, arm64 or riscv64: pass --arch`);
  }
  const profile = PROFILES[arch];
  const kernel = findKernel(arch, req.kernel, cwd);
  // Usage errors before anything is started or created.
  const repeat = Math.max(1, req.repeat ?? 1);
  // A first CI run has no timings file yet: every shard then balances with the same guess.
  const timingsPath = req.timingsFile !== undefined ? resolve(cwd, req.timingsFile) : undefined;
  const shardTimings = timingsPath !== undefined && existsSync(timingsPath) ? readTimings(timingsPath) : undefined;
  if (timingsPath !== undefined && !shardTimings)
    warn(`--timings ${req.timingsFile}: no such file yet; balancing the shards with the built-in guess (as every shard without it does)`);
  const allModules = req.modules?.length ? findModules(req.modules, cwd) : [];
  const shardModules = req.shard
    ? shardModulesOf(
        allModules.map((m) => basename(m)),
        req.shard,
        shardTimings,
      )
    : undefined;
  const modules = shardModules ? allModules.filter((m) => shardModules.includes(basename(m))) : allModules;
  const started = new Date().toISOString();
  const gating = wantsGate(req.gate) && !req.list ? await import('../gate/index.js') : undefined;
  const gateOptions = gating?.loadGate(req.gate!);
  const outputDir = createOutputDir(cwd, req.output);
  const qemu = req.qemu ?? profile.qemu;
  const first = initialAccel(req.accel ?? 'auto', qemu, arch === hostArch());
  if (first.note) warn(first.note);
  const orphans = orphanGuard();
  if (orphans.note) warn(orphans.note);
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
      warn(
        "--repeat needs CONFIG_KUNIT_DEBUGFS (the suites' debugfs run files), which the kernel's config lacks: every suite will run once",
      );
    }
    if (gaps.length > 0) {
      warn(
        `the kernel's config lacks ${gaps.join(', ')}: the in-guest agent cannot run in it (docs/agent.md); running over the serial console only` +
          (modules.length ? `; the ${modules.length} module(s) are not loaded` : '') +
          (repeat > 1 ? '; no repeats' : ''),
      );
      useAgent = false;
    }
  }
  const queue = new ModuleQueue(useAgent ? modules : []);
  // `ws` and the server only when needed: a serial run starts QEMU without loading them (27 ms).
  const agentServer: AgentServer | undefined = useAgent
    ? await (await import('../agent/server.js')).AgentServer.start(tokenBase(tmpdir(), outputDir))
    : undefined;
  const agentFailures: string[] = [];
  let lanesTotal = 1;
  try {
    const boot = async (logName: string, kunit: KunitParams, lane: number, agentOpts?: { resetGlob?: string }): Promise<SessionResult> => {
      for (;;) {
        const rawLogPath = join(outputDir, logName);
        const agentLane =
          agentServer && agentOpts
            ? new AgentLane({
                server: agentServer,
                logPath: rawLogPath.replace(/console(-lane-\d+)?\.log$/, 'agent$1.log'),
                modules: queue,
                repeat,
                helloTimeoutMs: (req.agentTimeoutS ?? 60) * 1000,
                writes: req.guestWrites ?? [],
                warn: (m) => warn(`${lanesTotal > 1 ? `lane ${lane + 1}: ` : ''}${m}`),
                ...(agentOpts.resetGlob !== undefined ? { resetGlob: agentOpts.resetGlob } : {}),
                ...(req.agentCutEveryLines ? { cutEveryLines: req.agentCutEveryLines } : {}),
              })
            : undefined;
        const cmd = buildQemuCommand(
          {
            arch: arch!,
            kernel,
            accel,
            memoryMb: req.memoryMb,
            smp: req.smp,
            initrd: req.initrd,
            append: req.append,
            qemuArgs: req.qemuArgs,
            qemu,
            kunit,
            serialFile: SERIAL_FD_PATH,
            ...(agentLane
              ? {
                  agent: {
                    initArgs: agentInitArgs(files!, req.agentNode ?? process.execPath, agentServer!.port, agentLane.channel.tokenFile),
                  },
                }
              : {}),
          },
          existsSync,
        );
        firstCmdline ||= cmd.cmdline;
        const remaining = deadline !== undefined ? Math.max(1, deadline - Date.now()) : 0;
        const onEvent = agentLane
          ? (e: KtapEvent): void => {
              agentLane.onEvent(e);
              req.onEvent?.(e, lane);
            }
          : req.onEvent
            ? (e: KtapEvent): void => req.onEvent!(e, lane)
            : undefined;
        let s: SessionResult;
        try {
          s = await runSession({
            command: cmd,
            debianPackage: profile.debianPackage,
            rawLogPath,
            timeoutMs: remaining,
            stallTimeoutMs: (req.stallTimeoutS ?? 0) * 1000,
            kvmProbeMs: probe ? (req.kvmProbeMs ?? 5000) : undefined,
            onEvent,
            onRaw: req.onRaw ? (c) => req.onRaw!(c, lane) : undefined,
            signal: req.signal,
            // The listing boot's console is the test list: read back from the session, not by name.
            keepConsole: kunit.action !== undefined,
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
            warn(
              `${where}${agentLane.failure}; ${agentLane.channel.firstHelloAt === undefined ? 'the results' : 'the rest'} come from the serial console (${rawLogPath})`,
            );
          }
          s.result = agentLane.fold(s.result);
        }
        if (s.ending === 'kvm-dead') {
          const why = s.exit?.code
            ? `QEMU exited with status ${s.exit.code}: ${s.stderr.trim().split('\n').pop() ?? ''}`
            : `no kernel output within ${(req.kvmProbeMs ?? 5000) / 1000} s`;
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
          throw new BridgeError('E_QEMU_FAILED', `QEMU failed before the kernel printed anything: ${last} (raw log: ${rawLogPath})`);
        }
        return s;
      }
    };

    const userKunit: KunitParams = { filterGlob: req.filterGlob, filter: req.filterAttr, filterAction: req.filterAction };
    // Hashing the image is only needed for the cache: not before a single-lane boot starts.
    let hash: string | undefined;
    const fullHash = (): string => (hash ??= fileHash(kernel));
    const kernelKey = (): string => fullHash().slice(0, 16);
    const listKey = (glob: string | undefined): string =>
      `lists/${kernelKey()}-${Buffer.from(`${glob ?? ''}\u0000${req.filterAttr ?? ''}`).toString('base64url')}.json`;
    const getList = async (glob = req.filterGlob): Promise<ListedSuite[]> => {
      const cached = req.list ? undefined : readCache<ListedSuite[]>(listKey(glob));
      if (cached) return cached;
      const logName = glob === req.filterGlob ? 'console-list.log' : 'console-list-all.log';
      const s = await boot(logName, { ...userKunit, filterGlob: glob, filterAction: undefined, action: 'list_attr' }, -1);
      const listed = parseTestList(s.console?.toString('utf8') ?? '');
      if (s.ending === 'exited' && listed.length > 0) writeCache(listKey(glob), listed);
      return listed;
    };

    if (req.list) {
      const all = await getList();
      // `--shard K/N --list`: the tests of that shard.
      const mine = req.shard
        ? new Set(
            planShardLanes({
              suites: all,
              universe: all,
              modules: [],
              spec: req.shard,
              jobs: 1,
              splitLanes: false,
              laneCost: guessCost,
              ...(shardTimings ? { timings: shardTimings } : {}),
            }).info.expected,
          )
        : undefined;
      const listed = mine ? all.filter((s) => mine.has(s.name)) : all;
      const result: RunResult = {
        documents: [],
        diagnostics: [],
        counts: emptyCounts(),
        verdict: listed.length ? 'passed' : 'no-tests',
        lines: 0,
        metadata: {},
      };
      return {
        result,
        exitCode: req.signal?.aborted ? exitCodeForSignal(req.signal.reason) : listed.length ? ExitCode.OK : ExitCode.INCOMPLETE,
        outputDir,
        rawLogs,
        listed,
      };
    }

    const jobs = Math.max(1, req.jobs ?? 1);
    const timingsKey = (): string => `timings/${kernelKey()}.json`;
    // Without -j, a single boot needs no history: read it only when sharding is possible.
    const timings = jobs > 1 || req.runIsolated || req.shard ? (readCache<Record<string, number>>(timingsKey()) ?? {}) : {};
    let lanes: Lane[] = [{ index: 0, suites: [], estimatedMs: 0 }];
    let suites: ListedSuite[] | undefined;
    const known = Object.values(timings).reduce((a, b) => a + b, 0);
    // With test modules, -j first spreads the modules (each lane boots, then takes modules from a
    // shared queue); the built-in suites are split only when their history says they are heavy.
    const modulesToShare = queue.all.length > 0;
    let shardInfo: RunResult['shard'];
    if (req.shard) {
      suites = await getList();
      // The shard's globs must select its suites among everything the kernel would run without the user's glob.
      const universe = req.filterGlob !== undefined && !req.signal?.aborted ? await getList(undefined) : suites;
      const cost = (s: ListedSuite): number => timings[s.name] ?? guessCost(s);
      const planned = planShardLanes({
        suites,
        universe,
        modules: allModules.map((m) => basename(m)),
        spec: req.shard,
        timings: shardTimings,
        jobs,
        splitLanes: req.jobsExplicit === true || known > 3000,
        laneCost: cost,
        userGlob: req.filterGlob,
      });
      lanes = planned.lanes;
      shardInfo = { ...planned.info, kernelHash: fullHash() };
      if (planned.info.expected.length === 0 && modules.length === 0) {
        warn(
          `shard ${req.shard.index}/${req.shard.total} has nothing to run: the kernel lists ${suites.length} suite(s) for ${req.shard.total} shards`,
        );
      }
      if (lanes.length === 0 && modules.length > 0) lanes = [{ index: 0, suites: [], estimatedMs: 0, modulesOnly: true }];
    } else if (req.runIsolated || (jobs > 1 && ((req.jobsExplicit && !modulesToShare) || known > 3000))) {
      suites = await getList();
      if (suites.length === 0 && !req.signal?.aborted) warn('the kernel listed no tests for these filters: running it once as is');
      const cost = (s: ListedSuite): number => timings[s.name] ?? guessCost(s);
      lanes =
        suites.length === 0
          ? lanes
          : req.runIsolated
            ? isolatedLanes(suites, req.runIsolated, cost)
            : planLanes(suites, jobs, cost, req.filterGlob);
    }
    if (modulesToShare && req.jobsExplicit) {
      const extra = Math.min(jobs - lanes.length, queue.all.length - 1);
      for (let i = 0; i < extra; i++) lanes.push({ index: lanes.length, suites: [], estimatedMs: 0, modulesOnly: true });
    }
    lanesTotal = lanes.length;
    req.onPlan?.(lanes, suites, {
      arch,
      kernel,
      accel,
      qemu,
      outputDir,
      ...(useAgent ? { agent: 'yes', modules: String(queue.all.length), repeat: String(repeat) } : {}),
    });

    const laneResults: { lane: number; result: RunResult; session?: SessionResult }[] = [];
    const single = lanes.length === 1 && !req.shard;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < lanes.length && !req.signal?.aborted) {
        const lane = lanes[next++]!;
        const kunit: KunitParams =
          single && !req.runIsolated
            ? userKunit
            : lane.modulesOnly
              ? { ...userKunit, filterGlob: NO_SUITE_GLOB }
              : {
                  ...userKunit,
                  filterGlob: lane.filterGlob ?? req.filterGlob,
                  filter: joinFilters(req.filterAttr, lane.filter),
                };
        const name = single ? 'console.log' : `console-lane-${String(lane.index + 1).padStart(2, '0')}.log`;
        const booting = boot(
          name,
          kunit,
          lane.index,
          !useAgent
            ? undefined
            : lane.modulesOnly
              ? { resetGlob: req.filterGlob ?? '*' }
              : // A lane that booted with a glob of its own gives the modules the user's back.
                lane.filterGlob !== undefined && lane.filterGlob !== req.filterGlob
                ? { resetGlob: req.filterGlob ?? '*' }
                : {},
        );
        // While QEMU boots: load the report writers and hash the image for the timing cache.
        void loadReportModules();
        kernelKey();
        const s = await booting;
        laneResults.push({ lane: lane.index, result: s.result, session: s });
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, lanes.length) }, () => worker()));
    laneResults.sort((a, b) => a.lane - b.lane);

    let result =
      single && laneResults.length === 1
        ? laneResults[0]!.result
        : shardInfo && lanes.length === 0
          ? emptyShardResult()
          : mergeLanes(
              laneResults,
              (suites ?? []).map((s) => s.name),
              lanes.map((l) => l.suites),
              queue.all.map((m) => basename(m)),
            );
    if (useAgent && laneResults.length > 1) {
      // The lanes' agent figures, summed; the agent's state is the worst lane's.
      const metas = laneResults.map((l) => l.result.metadata);
      const sum = (k: string): string => String(metas.reduce((n, m) => n + Number(m[k] ?? 0), 0));
      const states = metas.map((m) => m['agent'] ?? 'not started');
      Object.assign(result.metadata, {
        agent: ['not started', 'lost', 'finished'].find((st) => states.includes(st)) ?? 'finished',
        agentLines: sum('agentLines'),
        agentConnects: sum('agentConnects'),
        agentDuplicatesIgnored: sum('agentDuplicatesIgnored'),
        ...(metas.some((m) => m['agentCuts']) ? { agentCuts: sum('agentCuts') } : {}),
        ...(metas.some((m) => m['agentRefused']) ? { agentRefused: sum('agentRefused') } : {}),
      });
    }
    // Modules no lane loaded (every agent failed, or the run was cut short) are not-run, not absent.
    const notLoaded = useAgent ? [...queue.left] : modules;
    if (notLoaded.length > 0) {
      result = foldAttempts(result, {
        steps: [],
        repeat: 1,
        modulesNotLoaded: notLoaded.map((m) => basename(m)),
        cutShort: req.signal?.aborted
          ? 'interrupted'
          : (agentFailures[0] ?? (useAgent ? 'the run ended first' : 'the agent could not run in this kernel')),
      });
    }
    Object.assign(result.metadata, {
      arch,
      kernel,
      accel,
      qemu,
      cmdline: firstCmdline,
      lanes: String(lanes.length),
      kernelHash: fullHash(),
      started,
      ...bannerMetadata(headOf(rawLogs)),
      endings: laneResults.map((l) => l.session?.ending ?? 'exited').join(','),
      ...(useAgent ? { transport: 'agent', repeat: String(repeat), modules: String(modules.length) } : { transport: 'serial' }),
    });

    // Timings for the next plan: top-level suite durations.
    const fresh: Record<string, number> = {};
    for (const d of result.documents)
      for (const t of d.tests) if (t.durationMs !== undefined && t.status !== 'not-run') fresh[t.name] = t.durationMs;
    writeCache(timingsKey(), { ...readCache<Record<string, number>>(timingsKey()), ...fresh });
    if (shardInfo) result.shard = shardInfo;
    if (req.saveTimings) saveTimings(resolve(cwd, req.saveTimings), result);

    // A shard is judged on its own part: baseline tests of the other shards are not missing.
    const inScope = shardInfo ? shardScope(shardInfo.expected) : undefined;
    if (gating && gateOptions)
      for (const w of gating.applyGate(result, { ...gateOptions, arch, ...(inScope ? { inScope } : {}) }).warnings) warn(w);

    const [{ writeReports }] = await loadReportModules();
    let exitCode: number = exitCodeFor(result.verdict);
    if (req.signal?.aborted) exitCode = exitCodeForSignal(req.signal.reason);
    try {
      writeReports(result, req.reports ?? {}, [['json', join(outputDir, 'results.json')]]);
    } catch (err) {
      // Every other report was written; the run's results stand, the exit code says one is missing.
      if (!(err instanceof BridgeError)) throw err;
      return { result, exitCode: err.exitCode, outputDir, rawLogs, reportError: err };
    }
    return { result, exitCode, outputDir, rawLogs };
  } finally {
    await agentServer?.stop();
  }
}
