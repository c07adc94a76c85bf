/**
 * `kunit-bridge merge INPUT...`: results.json files (or output directories)
 * of shards, lanes or whole runs on other architectures, put back into one
 * report (runner/merge-runs.ts). A library function: no argv, no
 * process.exit; the verdict decides the exit code.
 */
import { warnStderr } from '../stdout.js';
import { ConsoleView } from '../../reporters/console.js';
import { readResults } from '../results-file.js';
import { mergeRuns } from '../merge-runs.js';
import type { RunResult } from '../ktap/model.js';
import type { ReportRequest } from '../reports.js';
import { saveTimings } from '../timings.js';
import { wantsGate, type GateRequest } from '../gate/request.js';

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
  /** `--known`, `--baseline`, `--strict-known` (docs/gating.md), applied to the merged result. */
  gate?: GateRequest;
  /** GitHub Actions annotations for the failures. */
  annotate?: boolean;
}

export async function mergeCommand(req: MergeRequest): Promise<RunResult> {
  const write =
    req.write ??
    ((t: string) => {
      process.stdout.write(t);
    });
  const warn = req.warn ?? warnStderr;
  const gating = wantsGate(req.gate) ? await import('../gate/index.js') : undefined;
  const gate = gating?.loadGate(req.gate!);
  const { result, warnings } = mergeRuns(req.inputs.map(readResults));
  for (const w of warnings) warn(w);
  const view = req.quiet ? undefined : new ConsoleView({ write, color: req.color ?? false });
  if (gating) {
    // Known entries limited to an arch apply to each group's own documents.
    const groups = result.groups;
    const arch = groups
      ? (doc: number): string | undefined => groups[result.documents[doc]?.origin?.group ?? -1]?.arch
      : result.metadata['arch'];
    gating.finishGate(result, gate, {
      view,
      write,
      warn,
      annotate: req.annotate === true,
      quiet: req.quiet === true,
      ...(arch !== undefined ? { extra: { arch } } : {}),
    });
  } else {
    view?.finish(result);
    if (req.annotate) {
      const lines = (await import('../gate/annotations.js')).githubAnnotations(result);
      if (lines.length > 0) write(`${lines.join('\n')}\n`);
    }
  }
  if (req.saveTimings) saveTimings(req.saveTimings, result);
  const { writeReports } = await import('../reports.js');
  writeReports(result, req.reports);
  return result;
}
