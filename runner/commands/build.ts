/**
 * `kunit-bridge build`: configure and build a kernel for KUnit from a tree
 * and its kunitconfig fragments, like `kunit.py build`, and say where the
 * image is. A library function (no argv, no exit); `run --build` calls it
 * before the run. The steps are runner/build/'s: fragments → configure
 * (skipped when nothing changed) → compile.
 */
import { closeSync, existsSync, mkdirSync, readFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { compile } from '../build/compile.js';
import { configure } from '../build/configure.js';
import { buildDirOf, findSource, mergedConfig, shown } from '../build/fragments.js';
import { buildCommand, commandLine, compilerOf, type MakeRequest } from '../build/make-command.js';
import type { ProgressSnapshot } from '../build/progress.js';
import type { BuildRecord } from '../build/record.js';
import { wantsRust } from '../build/rust.js';
import { configHash, inputsHash, openInPlace, readStamp, sha256, writeStamp } from '../build/stamp.js';
import { toolsHash, unchangedSince } from '../build/unchanged.js';
import { checkCompiler, toolchainVersions } from '../build/toolchain.js';
import { BridgeError } from '../errors.js';
import { hostArch, normalizeArch, PROFILES, type Arch } from '../qemu/profiles.js';

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
  /** Run make even when nothing changed since the last build (build/unchanged.ts). */
  makeAlways?: boolean;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** A step starts (`make olddefconfig`, the build's command line). */
  onStep?: (what: string) => void;
  /** A note on what the build does (make not run). */
  onNote?: (text: string) => void;
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
  const compilers = toolchainVersions(
    compiler,
    compiler.includes('clang') ? 'ld.lld' : `${crossCompile ?? ''}ld`,
    wantsRust(merged.entries),
  );
  const tools = toolsHash(compilers, req.env ?? process.env);
  const image = join(buildDir, PROFILES[arch].build.image);
  const cmd = buildCommand(make);
  const inputs = inputsHash({ entries: merged.entries, arch, crossCompile, makeOptions });
  const record = (o: { configHash: string; reconfigured: boolean; compiled: number; makeRun: boolean }): BuildRecord => ({
    source,
    buildDir,
    arch,
    image,
    started: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    configHash: o.configHash,
    reconfigured: o.reconfigured,
    makeRun: o.makeRun,
    objectsCompiled: o.compiled,
    fragments: merged.files.map((f) => ({ path: shown(source, f), sha256: sha256(readFileSync(f)) })),
    kconfigAdd: req.kconfigAdd ?? [],
    makeOptions,
    make: commandLine(cmd),
    compilers,
  });
  const log = join(buildDir, 'build.log');
  const stamp0 = readStamp(buildDir);
  const config0 = configHash(buildDir);
  const since = req.makeAlways ? undefined : unchangedSince(stamp0, { inputs, config: config0, tools, source, buildDir, image });
  const logFd = openInPlace(log);
  try {
    if (since !== undefined) {
      writeSync(logFd, `kunit-bridge: nothing changed since the build that ended ${since}: make not run (--make-always runs it)\n`);
      req.onNote?.(`nothing changed since the last build (${since}): make not run`);
      return { record: record({ configHash: config0!, reconfigured: false, compiled: 0, makeRun: false }), log, interrupted: false };
    }
    const conf = await configure({ make, entries: merged.entries, logFd, log, signal: req.signal, onCommand: req.onStep });
    if (req.signal?.aborted) return { record: record({ ...conf, compiled: 0, makeRun: false }), log, interrupted: true };
    req.onStep?.(commandLine(cmd));
    const stamp = readStamp(buildDir);
    // Until this make succeeds, there is no last build to compare with.
    if (stamp?.built) writeStamp(buildDir, { ...stamp, built: undefined });
    const t0 = Date.now();
    const done = await compile({
      make,
      logFd,
      log,
      signal: req.signal,
      onProgress: (p) => req.onProgress?.(p, Date.now() - t0, stamp?.objects),
    });
    const result = record({ ...conf, compiled: done.progress.compiled, makeRun: true });
    if (done.interrupted) return { record: result, log, interrupted: true };
    if (!existsSync(image))
      throw new BridgeError('E_BUILD_FAILED', `make succeeded but ${shown(source, image)} is not there (full log: ${log})`);
    if (stamp)
      writeStamp(buildDir, {
        ...stamp,
        objects: Math.max(stamp.objects ?? 0, done.progress.compiled),
        built: { startedMs: t0, endedMs: Date.now(), tools },
      });
    return { record: result, log, interrupted: false };
  } finally {
    closeSync(logFd);
  }
}
