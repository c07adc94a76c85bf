/** `kunit-bridge parse [FILE|-]`: a saved console log → summary and reports. */
import type { Command } from 'commander';
import { parseCommand } from '../commands/parse.js';
import { exitCodeFor } from '../exit-codes.js';
import { githubActions } from '../gate/request.js';
import { writeStdout } from '../stdout.js';
import { addGateOptions, gateRequest, type GateFlags } from './gate-options.js';
import { arch, colorFor, colorOption, usage, type CommonFlags } from './options.js';
import { addReportOptions, reportRequest, type ReportFlags } from './report-options.js';

interface ParseFlags extends CommonFlags, ReportFlags, GateFlags {
  arch?: string;
}

export function registerParse(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('parse')
    .description('parse a saved kernel console log (a file, or - for stdin) and write reports')
    .argument('[file]', 'console log to read, - for stdin', '-');
  addReportOptions(cmd);
  addGateOptions(cmd, 'run');
  cmd
    .option('--arch <arch>', "the log's architecture, for --known entries limited to some", arch)
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(colorOption('summary'))
    .action(async (file: string, flags: ParseFlags) => {
      if (file === '-' && process.stdin.isTTY) usage('no input: give a console log file, or pipe one to stdin');
      const result = await parseCommand({
        input: file,
        quiet: flags.quiet === true,
        color: colorFor(flags.color),
        write: writeStdout,
        reports: reportRequest(flags),
        gate: gateRequest(flags),
        ...(flags.arch !== undefined ? { arch: flags.arch } : {}),
        annotate: githubActions(),
      });
      setExit(exitCodeFor(result.verdict));
    });
}
