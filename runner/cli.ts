#!/usr/bin/env node
/**
 * The command line: a thin commander shell. It builds a typed request, calls
 * the library function, and maps the outcome to an exit code in one place
 * (runner/exit-codes.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { parseCommand } from './commands/parse.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { BridgeError } from './errors.js';
import { shouldColor } from '../reporters/console.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function fail(message: string): never {
  throw new BridgeError('E_USAGE', 'cli', ExitCode.USAGE, message);
}

/** Build the program; exported for tests. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('kunit-bridge')
    .description('Run the Linux kernel\'s KUnit (and Rust) tests and bridge their KTAP results to JUnit, TAP 14 and JSON.')
    .version(pkg.version)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`kunit-bridge: ${s.replace(/^error: /, '').trim()} (see kunit-bridge --help)\n`),
    })
    .addHelpText('after', `
Exit codes:
  0  every test passed or was skipped
  1  a test failed
  2  usage or input error (bad flag, missing file)
  3  the run did not complete (kernel crashed, output cut short, no KTAP found, no tests ran)
  4  infrastructure failure (QEMU missing or failing)

Example:
  kunit-bridge parse boot.log --junit junit.xml --kunit-json results.json`);

  program
    .command('parse')
    .description('parse a saved kernel console log (a file, or - for stdin) and write reports')
    .argument('[file]', 'console log to read, - for stdin', '-')
    .option('--junit <file>', 'write JUnit XML')
    .option('--junit-locations', 'add file/line attributes from Rust doctest locations to JUnit test cases')
    .option('--tap <file>', 'write TAP 14')
    .option('--json <file>', 'write kunit-bridge native JSON (docs/json-format.md)')
    .option('--kunit-json <file>', 'write the JSON of `kunit.py parse --json` (KernelCI)')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--color <when>', 'colour the summary').choices(['auto', 'always', 'never']).default('auto'))
    .action(async (file: string, opts: Record<string, string | boolean | undefined>) => {
      if (file === '-' && process.stdin.isTTY) fail('no input: give a console log file, or pipe one to stdin');
      const color = opts['color'] === 'always' ? true : opts['color'] === 'never' ? false : shouldColor(process.stdout);
      const result = await parseCommand({
        input: file,
        quiet: opts['quiet'] === true,
        color,
        reports: {
          junit: opts['junit'] as string | undefined,
          tap: opts['tap'] as string | undefined,
          json: opts['json'] as string | undefined,
          kunitJson: opts['kunitJson'] as string | undefined,
          junitLocations: opts['junitLocations'] === true,
        },
      });
      setExit(exitCodeFor(result.verdict));
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  const program = buildProgram((c) => { code = c; });
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

// `kunit-bridge … | head`: a closed pipe is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
