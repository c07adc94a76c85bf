/**
 * The command line: a thin commander shell. Each command registers its
 * options and builds a typed request (runner/cli/*.ts), calls the library
 * function, and maps the outcome to an exit code in one place
 * (runner/exit-codes.ts). Importing this module runs nothing: the executable
 * is runner/bin.ts; `node dist/runner/cli.js …`, as scripts written before the shim do, runs it
 * too (only when this file is the entry point).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { BridgeError } from './errors.js';
import { registerBuild } from './cli/build.js';
import { registerCompare } from './cli/compare.js';
import { registerMerge } from './cli/merge.js';
import { registerParse } from './cli/parse.js';
import { registerRun } from './cli/run.js';
import { registerWatch } from './cli/watch.js';

/** The package's version: its package.json is two levels above dist/runner/cli.js, one above runner/cli.ts. */
function version(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      /* the other layout */
    }
  }
  return 'unknown';
}

/** Build the program; `setExit` receives the command's exit code. Exported for tests. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('kunit-bridge')
    .description("Run the Linux kernel's KUnit (and Rust) tests and bridge their KTAP results to JUnit, TAP 14, JSON and KCIDB.")
    .version(version())
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`kunit-bridge: ${s.replace(/^error: /, '').trim()} (see kunit-bridge --help)\n`),
    })
    .addHelpText(
      'after',
      `
Exit codes:
  0  every test passed or was skipped
  1  a test failed (with --known/--baseline: one not known, a regression, a new failure)
  2  usage or input error (bad flag, missing file, bad known file or results.json)
  3  the run did not complete (kernel crashed, output cut short, no KTAP found, no tests ran)
  4  infrastructure failure (QEMU missing or failing; an SSH target unreachable or lost)
  5  watch: the feed broke the live protocol
  6  --target: the host key is not known   7  it changed   8  login failed
  9  build, run --build: the kernel did not build (a compiler or linker error)
  129/130/143  run interrupted by SIGHUP/SIGINT/SIGTERM (partial reports written)

Example:
  kunit-bridge parse boot.log --junit junit.xml --kunit-json results.json`,
    );
  for (const register of [registerParse, registerRun, registerBuild, registerMerge, registerCompare, registerWatch])
    register(program, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    if (err instanceof BridgeError) {
      process.stderr.write(`kunit-bridge: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`kunit-bridge: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.INFRA;
  }
  return code;
}

/** This module is the process's entry point (`node dist/runner/cli.js …`), not an import. */
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const { guardConsoleStreams } = await import('./stdout.js');
  guardConsoleStreams();
  process.exitCode = await main(process.argv);
}
