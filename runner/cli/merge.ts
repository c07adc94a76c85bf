/** `kunit-bridge merge INPUT...`: shards, lanes or runs of other architectures → one report. */
import type { Command } from 'commander';
import { exitCodeFor } from '../exit-codes.js';
import { githubActions } from '../gate/request.js';
import { addGateOptions, gateRequest, type GateFlags } from './gate-options.js';
import { colorFor, colorOption, type CommonFlags } from './options.js';
import { addReportOptions, reportRequest, type ReportFlags } from './report-options.js';

interface MergeFlags extends CommonFlags, ReportFlags, GateFlags {
  saveTimings?: string;
}

export function registerMerge(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('merge')
    .description('merge the results.json of shards, lanes or runs on other architectures into one report')
    .argument('<input...>', 'results.json files, or run output directories holding one');
  addReportOptions(cmd);
  addGateOptions(cmd, 'merged run');
  cmd
    .option('--save-timings <file>', "write the merged run's suite timings to FILE, for run --timings")
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(colorOption('summary'))
    .action(async (inputs: string[], flags: MergeFlags) => {
      const { mergeCommand } = await import('../commands/merge.js');
      const result = await mergeCommand({
        inputs,
        quiet: flags.quiet === true,
        color: colorFor(flags.color),
        saveTimings: flags.saveTimings,
        reports: reportRequest(flags),
        gate: gateRequest(flags),
        annotate: githubActions(),
      });
      setExit(exitCodeFor(result.verdict));
    });
}
