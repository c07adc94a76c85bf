/**
 * `kunit-bridge compare BASE NEW`: two results.json files, the comparison of
 * NEW with BASE (regressions, new failures, fixed, still failing, new tests,
 * missing, flaky) printed and in the reports asked for, `--known` applied as
 * well. The verdict is the gate's, so it exits as `run --baseline` would have.
 * A library function: no argv, no process.exit.
 */
import { warnStderr } from '../stdout.js';
import { summarize } from '../../reporters/console.js';
import { finishGate, loadGate } from '../gate/index.js';
import { readResultsFile } from '../gate/results-file.js';
import type { GateRequest } from '../gate/request.js';
import type { RunResult } from '../ktap/model.js';
import { writeReports, type ReportRequest } from '../reports.js';

export interface CompareRequest {
  /** The baseline results.json. */
  base: string;
  /** The results.json to judge. */
  now: string;
  known?: GateRequest['known'];
  strictKnown?: boolean;
  reports: ReportRequest;
  quiet?: boolean;
  annotate?: boolean;
  write?: (text: string) => void;
  warn?: (message: string) => void;
}

export function compareCommand(req: CompareRequest): RunResult {
  const write =
    req.write ??
    ((t: string) => {
      process.stdout.write(t);
    });
  const gate = loadGate({
    baseline: req.base,
    ...(req.known !== undefined ? { known: req.known } : {}),
    strictKnown: req.strictKnown === true,
  });
  const result = readResultsFile(req.now);
  const view = req.quiet
    ? undefined
    : {
        finish: (r: RunResult): void => {
          write(`Comparing ${req.now} with ${req.base}. ${summarize(r.counts)}\n`);
        },
      };
  finishGate(result, gate, {
    view,
    write,
    annotate: req.annotate === true,
    quiet: req.quiet === true,
    warn: req.warn ?? warnStderr,
  });
  writeReports(result, req.reports);
  return result;
}
