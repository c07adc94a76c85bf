/**
 * `kunit-bridge merge INPUT...`: results.json files (or output directories)
 * of shards, lanes or whole runs on other architectures, put back into one
 * report (runner/merge-runs.ts). A library function: no argv, no
 * process.exit; the verdict decides the exit code.
 */
import { ConsoleView } from '../../reporters/console.js';
import { readResults } from '../results-file.js';
import { mergeRuns } from '../merge-runs.js';
import type { RunResult } from '../ktap/model.js';
import type { ReportRequest } from '../reports.js';
import { saveTimings } from '../timings.js';

export interface MergeRequest {
  inputs: string[];
  reports: ReportRequest;
  /** `--save-timings FILE`: the merged run's timings, for the next plan. */
  saveTimings?: string;
  quiet?: boolean;
  color?: boolean;
  write?: (text: string) => void;
  /** One-line warnings (stderr). */
  warn?: (message: string) => void;
}

export async function mergeCommand(req: MergeRequest): Promise<RunResult> {
  const write = req.write ?? ((t: string) => { process.stdout.write(t); });
  const warn = req.warn ?? ((m: string) => process.stderr.write(`kunit-bridge: ${m}\n`));
  const { result, warnings } = mergeRuns(req.inputs.map(readResults));
  for (const w of warnings) warn(w);
  if (!req.quiet) new ConsoleView({ write, color: req.color ?? false }).finish(result);
  if (req.saveTimings) saveTimings(req.saveTimings, result);
  const { writeReports } = await import('../reports.js');
  writeReports(result, req.reports);
  return result;
}
