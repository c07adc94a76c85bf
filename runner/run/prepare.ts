/**
 * Everything a run decides before its first boot, in one typed object: the
 * arch and kernel, the modules (a shard's share of them), the timings file,
 * the gate, the output directory, the accelerator, the agent or not.
 * Usage errors are thrown here, before anything is started or created.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, resolve } from 'node:path';
import { agentConfigGaps, agentFiles, findModules, kernelConfig, tokenBase, type AgentFiles } from '../agent/boot.js';
import { ModuleQueue } from '../agent/lane.js';
import type { AgentServer } from '../agent/server.js';
import { BridgeError } from '../errors.js';
import type { GateOptions } from '../gate/index.js';
import { wantsGate } from '../gate/request.js';
import { initialAccel } from '../qemu/accel.js';
import { findKernel } from '../qemu/find-kernel.js';
import { orphanGuard } from '../qemu/process.js';
import { hostArch, normalizeArch, PROFILES, type Arch, type ArchProfile } from '../qemu/profiles.js';
import type { RunRequest } from '../run-request.js';
import { shardModulesOf } from '../shard-run.js';
import { readTimings } from '../timings.js';
import { createOutputDir } from '../output-dir.js';

export interface RunContext {
  readonly req: RunRequest;
  readonly warn: (message: string) => void;
  readonly cwd: string;
  readonly arch: Arch;
  readonly profile: ArchProfile;
  readonly kernel: string;
  readonly repeat: number;
  /** The `--timings` file's contents, when the file exists. */
  readonly shardTimings: ReturnType<typeof readTimings> | undefined;
  /** Every `--module` given; `modules` is this shard's share of them. */
  readonly allModules: string[];
  readonly modules: string[];
  readonly started: string;
  readonly gating: typeof import('../gate/index.js') | undefined;
  readonly gateOptions: GateOptions | undefined;
  readonly outputDir: string;
  readonly qemu: string;
  /** The accelerator the first boot tries, and whether that boot probes KVM. */
  readonly accel: 'kvm' | 'tcg';
  readonly probe: boolean;
  /** When the run must end (epoch ms), with `--timeout`. */
  readonly deadline: number | undefined;
  readonly useAgent: boolean;
  readonly files: AgentFiles | undefined;
  /** The modules the lanes' agents take from (empty without the agent). */
  readonly queue: ModuleQueue;
}

function resolveArch(req: RunRequest): Arch {
  if (req.arch !== undefined) {
    const arch = normalizeArch(req.arch);
    if (!arch) throw new BridgeError('E_USAGE', `unknown --arch ${req.arch} (use x86_64, arm64 or riscv64)`);
    return arch;
  }
  const arch = hostArch();
  if (!arch) throw new BridgeError('E_USAGE', `this host (${process.arch}) is not x86_64, arm64 or riscv64: pass --arch`);
  return arch;
}

/** Whether the agent can run in this kernel: the config's gaps are warned about, and then it cannot. */
function agentFits(warn: (m: string) => void, kernel: string, arch: Arch, modules: string[], repeat: number): boolean {
  const config = kernelConfig(kernel);
  const gaps = config ? agentConfigGaps(config, arch, modules.length > 0) : [];
  if (gaps.length === 0 && repeat > 1 && config && !/^CONFIG_KUNIT_DEBUGFS=y$/m.test(config)) {
    warn("--repeat needs CONFIG_KUNIT_DEBUGFS (the suites' debugfs run files), which the kernel's config lacks: every suite will run once");
  }
  if (gaps.length === 0) return true;
  warn(
    `the kernel's config lacks ${gaps.join(', ')}: the in-guest agent cannot run in it (docs/agent.md); running over the serial console only` +
      (modules.length ? `; the ${modules.length} module(s) are not loaded` : '') +
      (repeat > 1 ? '; no repeats' : ''),
  );
  return false;
}

export async function prepareRun(req: RunRequest, warn: (message: string) => void): Promise<RunContext> {
  const cwd = req.cwd ?? process.cwd();
  const arch = resolveArch(req);
  const profile = PROFILES[arch];
  const kernel = findKernel(arch, req.kernel, cwd);
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
  const deadline = req.timeoutS ? Date.now() + req.timeoutS * 1000 : undefined;
  const wantsAgent = (req.agent === true || modules.length > 0 || repeat > 1 || (req.guestWrites?.length ?? 0) > 0) && !req.list;
  const files = wantsAgent ? agentFiles() : undefined;
  const useAgent = wantsAgent && agentFits(warn, kernel, arch, modules, repeat);
  return {
    req,
    warn,
    cwd,
    arch,
    profile,
    kernel,
    repeat,
    shardTimings,
    allModules,
    modules,
    started,
    gating,
    gateOptions,
    outputDir,
    qemu,
    accel: first.accel,
    probe: first.probe,
    deadline,
    useAgent,
    files,
    queue: new ModuleQueue(useAgent ? modules : []),
  };
}

/** `ws` and the server only when needed: a serial run starts QEMU without loading them (27 ms). */
export async function startAgentServer(ctx: RunContext): Promise<AgentServer | undefined> {
  return ctx.useAgent ? await (await import('../agent/server.js')).AgentServer.start(tokenBase(tmpdir(), ctx.outputDir)) : undefined;
}
