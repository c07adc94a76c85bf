/** `kunit-bridge compare BASE NEW`: what changed since a baseline, as a gate. */
import type { Command } from 'commander';
import { exitCodeFor } from '../exit-codes.js';
import { githubActions } from '../gate/request.js';
import { addGateOptions, type GateFlags } from './gate-options.js';
import type { CommonFlags } from './options.js';
import { addReportOptions, reportRequest, type ReportFlags } from './report-options.js';

type CompareFlags = Omit<CommonFlags, 'color'> & ReportFlags & Omit<GateFlags, 'baseline'>;

export function registerCompare(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('compare')
    .description("compare a run's results.json with a baseline's: regressions and new failures fail (exit 1), missing tests exit 3")
    .argument('<base>', 'the baseline results.json (the last release, the parent commit)')
    .argument('<new>', "the results.json to judge (its reports are written with the gate's verdict)");
  addGateOptions(cmd, 'comparison', false);
  addReportOptions(cmd, ['junit', 'tap', 'json', 'markdown']);
  cmd.option('-q, --quiet', 'print nothing but errors').action(async (base: string, now: string, flags: CompareFlags) => {
    const { compareCommand } = await import('../commands/compare.js');
    const result = compareCommand({
      base,
      now,
      ...(flags.known !== undefined ? { known: flags.known } : {}),
      strictKnown: flags.strictKnown === true,
      reports: reportRequest(flags),
      quiet: flags.quiet === true,
      annotate: githubActions(),
    });
    setExit(exitCodeFor(result.verdict));
  });
}
