/**
 * `kunit-bridge build` and the build options `run --build` shares: kunit.py's
 * `--build_dir`, `--kunitconfig`, `--kconfig_add`, `--alltests`, `--arch`,
 * `--cross_compile`, `--make_options`, `--jobs` under kebab-case names
 * (`--build-jobs`, since `run -j` is QEMU's).
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import type { BuildOutcome, BuildRequest } from '../commands/build.js';
import { exitCodeForSignal } from '../exit-codes.js';
import { writeStdout } from '../stdout.js';
import { arch, collect, int, usage, type CommonFlags } from './options.js';

/** The build's flags (on `build`, and on `run` with `--build`). */
export interface BuildFlags {
  source?: string;
  buildDir?: string;
  kunitconfig?: string[];
  kconfigAdd?: string[];
  alltests?: boolean;
  arch?: string;
  crossCompile?: string;
  makeOptions?: string[];
  buildJobs?: number;
  makeAlways?: boolean;
}

/** The options both commands have (`withArch`: `build` registers --arch; `run` has its own). */
export function addBuildOptions(cmd: Command, withArch: boolean): void {
  cmd
    .option('--source <dir>', 'the kernel tree (default: the current directory)')
    .option('--build-dir <dir>', 'build directory, relative to the tree (default: .kunit, under $KBUILD_OUTPUT when set)')
    .option(
      '--kunitconfig <path>',
      "kunitconfig fragment, or a directory holding .kunitconfig; repeatable, merged (default: the build dir's .kunitconfig, else tools/testing/kunit/configs/default.config)",
      collect,
    )
    .option('--kconfig-add <CONFIG_X=y>', 'one more option over the kunitconfig (repeatable)', kconfigAddOption)
    .option('--alltests', 'build tools/testing/kunit/configs/all_tests.config (with any --kunitconfig)')
    .option(
      '--cross-compile <prefix>',
      'CROSS_COMPILE= prefix (default for another arch: its Debian cross compiler, e.g. aarch64-linux-gnu-)',
    )
    .option('--make-options <X=Y>', 'extra make variable, e.g. LLVM=1 (repeatable)', collect)
    .option('--build-jobs <n>', 'make -j (default: the number of cores)', int('--build-jobs', 1))
    .option('--make-always', 'run make even when nothing changed since the last build (by default it is skipped then)');
  if (withArch) cmd.option('--arch <arch>', "architecture: x86_64, arm64, riscv64 (default: the host's)", arch);
}

/** `--kconfig-add`: one `CONFIG_X=value` (or `# CONFIG_X is not set`), repeatable. */
function kconfigAddOption(v: string, prev: string[] = []): string[] {
  if (!/^CONFIG_\w+=\S*$/.test(v) && !/^# CONFIG_\w+ is not set$/.test(v)) usage(`--kconfig-add wants CONFIG_NAME=value, not "${v}"`);
  return [...prev, v];
}

export function buildRequestOf(f: BuildFlags): BuildRequest {
  return {
    source: f.source,
    buildDir: f.buildDir,
    kunitconfigs: f.kunitconfig,
    kconfigAdd: f.kconfigAdd,
    alltests: f.alltests === true,
    arch: f.arch,
    crossCompile: f.crossCompile,
    makeOptions: f.makeOptions,
    jobs: f.buildJobs,
    makeAlways: f.makeAlways === true,
  };
}

/** A path for the user: relative to the current directory when that is shorter. */
function forUser(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.length < path.length ? rel : path;
}

/** Build with the progress view on stderr; undefined when the signal stopped it. */
export async function buildWithView(req: BuildRequest, o: { quiet: boolean; signal: AbortSignal }): Promise<BuildOutcome | undefined> {
  const [{ buildKernel }, { buildView }] = await Promise.all([import('../commands/build.js'), import('../build/view.js')]);
  const view = buildView({
    quiet: o.quiet,
    tty: process.stderr.isTTY === true,
    write: (t) => {
      process.stderr.write(t);
    },
  });
  let outcome: BuildOutcome;
  try {
    outcome = await buildKernel({ ...req, signal: o.signal, onStep: view.onStep, onNote: view.onNote, onProgress: view.onProgress });
  } finally {
    view.clear();
  }
  if (outcome.interrupted) {
    process.stderr.write(`kunit-bridge: build interrupted: make and its compilers stopped (log: ${forUser(outcome.log)})\n`);
    return undefined;
  }
  view.finish(outcome.record, forUser(outcome.record.image), forUser(outcome.log));
  return outcome;
}

/** Ctrl-C, SIGTERM, a hang-up: make's whole process group is stopped (a second one exits at once). */
export function abortOnSignals(): AbortSignal {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) process.exit(exitCodeForSignal(sig));
    ac.abort(sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  return ac.signal;
}

interface BuildCommandFlags extends BuildFlags, CommonFlags {}

export function registerBuild(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('build')
    .description(
      'configure and build a kernel for KUnit from a kernel tree and kunitconfig fragments (like kunit.py build); prints the image',
    );
  addBuildOptions(cmd, true);
  cmd.option('-q, --quiet', 'print nothing but errors and the image');
  cmd.action(async (flags: BuildCommandFlags) => {
    const signal = abortOnSignals();
    const outcome = await buildWithView(buildRequestOf(flags), { quiet: flags.quiet === true, signal });
    if (!outcome) {
      setExit(exitCodeForSignal(signal.reason));
      return;
    }
    writeStdout(`${forUser(outcome.record.image)}\n`);
  });
}
