/**
 * `kunit-bridge build`: configure and build a kernel for KUnit from a tree
 * and its kunitconfig fragments, like `kunit.py build`, and say where the
 * image is. A library function (no argv, no exit); `run --build` calls it
 * before the run. The steps are runner/build/'s: fragments → configure
 * (skipped when nothing changed) → compile.
 */
import { closeSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { compile } from '../build/compile.js';
import { configure } from '../build/configure.js';
import { buildDirOf, findSource, mergedConfig, shown } from '../build/fragments.js';
import { buildCommand, commandLine, compilerOf, type MakeRequest } from '../build/make-command.js';
import type { ProgressSnapshot } from '../build/progress.js';
import type { BuildRecord } from '../build/record.js';
import { wantsRust } from '../build/rust.js';
import { readStamp, sha256, writeStamp } from '../build/stamp.js';
import { checkCompiler, toolchainVersions } from '../build/toolchain.js';
import { BridgeError } from '../errors.js';
import { hostArch, normalizeArch, PROFILES, type Arch } from '../qemu/profiles.js';
import { openFresh } from '../write-file.js';

export type { BuildRecord } from '../build/record.js';

export interface BuildRequest {
  /** The kernel tree (default: `cwd`). */
  source?: string;
  cwd?: string;
  /** `--build-dir` (default `.kunit`, under `$KBUILD_OUTPUT` when set). */
  buildDir?: string;
  kunitconfigs?: string[];
  kconfigAdd?: string[];
  alltests?: boolean;
  arch?: string;
  crossCompile?: string;
  makeOptions?: string[];
  /** `make -j` (default: the cores). */
  jobs?: number;
  /** Build the modules as well (`run --build --modules`). */
  modules?: boolean;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** A step starts (`make olddefconfig`, the build's command line). */
  onStep?: (what: string) => void;
  /** After each kbuild step; `estimate` is the objects a full build of this dir compiled last time. */
  onProgress?: (p: Readonly<ProgressSnapshot>, elapsedMs: number, estimate: number | undefined) => void;
}

export interface BuildOutcome {
  record: BuildRecord;
  /** The build log in the build dir. */
  log: string;
  /** Stopped by the signal before it finished (no image promised). */
  interrupted: boolean;
}

function archOf(req: BuildRequest): Arch {
  if (req.arch === undefined) {
    const a = hostArch();
    if (!a) throw new BridgeError('E_USAGE', `this host (${process.arch}) is not x86_64, arm64 or riscv64: pass --arch`);
    return a;
  }
  const a = normalizeArch(req.arch);
  if (!a) throw new BridgeError('E_USAGE', `unknown --arch ${req.arch} (use x86_64, arm64 or riscv64)`);
  return a;
}

/** The cross compiler: the one given; for another arch than the host's, the profile's Debian prefix (not with LLVM=1). */
function crossOf(req: BuildRequest, arch: Arch): string | undefined {
  if (req.crossCompile !== undefined) return req.crossCompile || undefined;
  if (arch === hostArch() || (req.makeOptions ?? []).some((o) => o.startsWith('LLVM='))) return undefined;
  return PROFILES[arch].build.crossPrefix;
}

export async function buildKernel(req: BuildRequest): Promise<BuildOutcome> {
  const cwd = req.cwd ?? process.cwd();
  const started = new Date();
  const arch = archOf(req);
  const source = findSource(req.source, cwd);
  const buildDir = buildDirOf(source, req.buildDir, req.env);
  const crossCompile = crossOf(req, arch);
  const makeOptions = req.makeOptions ?? [];
  const compiler = compilerOf({ crossCompile, makeOptions });
  checkCompiler(compiler, arch, crossCompile);
  const merged = mergedConfig({
    source,
    buildDir,
    arch,
    kunitconfigs: req.kunitconfigs,
    kconfigAdd: req.kconfigAdd,
    alltests: req.alltests,
    cwd,
  });
  mkdirSync(buildDir, { recursive: true });
  const make: MakeRequest = {
    arch,
    source,
    buildDir,
    crossCompile,
    makeOptions,
    jobs: req.jobs ?? availableParallelism(),
    modules: req.modules,
  };
  const log = join(buildDir, 'build.log');
  const logFd = openFresh(log);
  try {
    const conf = await configure({ make, entries: merged.entries, logFd, log, signal: req.signal, onCommand: req.onStep });
    const base = { source, buildDir, arch, started: started.toISOString(), kconfigAdd: req.kconfigAdd ?? [], makeOptions };
    const image = join(buildDir, PROFILES[arch].build.image);
    const cmd = buildCommand(make);
    const record = (compiled: number): BuildRecord => ({
      ...base,
      image,
      durationMs: Date.now() - started.getTime(),
      configHash: conf.configHash,
      reconfigured: conf.reconfigured,
      objectsCompiled: compiled,
      fragments: merged.files.map((f) => ({ path: shown(source, f), sha256: sha256(readFileSync(f)) })),
      make: commandLine(cmd),
      compilers: toolchainVersions(compiler, compiler.includes('clang') ? 'ld.lld' : `${crossCompile ?? ''}ld`, wantsRust(merged.entries)),
    });
    if (req.signal?.aborted) return { record: record(0), log, interrupted: true };
    req.onStep?.(commandLine(cmd));
    const stamp = readStamp(buildDir);
    const t0 = Date.now();
    const done = await compile({
      make,
      logFd,
      log,
      signal: req.signal,
      onProgress: (p) => req.onProgress?.(p, Date.now() - t0, stamp?.objects),
    });
    if (done.interrupted) return { record: record(done.progress.compiled), log, interrupted: true };
    if (!existsSync(image))
      throw new BridgeError('E_BUILD_FAILED', `make succeeded but ${shown(source, image)} is not there (full log: ${log})`);
    // Written after every build: its time is the build's for `run`'s stale-image check (build/stale.ts).
    if (stamp) writeStamp(buildDir, { ...stamp, objects: Math.max(stamp.objects ?? 0, done.progress.compiled) });
    return { record: record(done.progress.compiled), log, interrupted: false };
  } finally {
    closeSync(logFd);
  }
}
