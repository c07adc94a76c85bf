/**
 * What `run` shows while it works: a kunit.py-like stream for one lane off a
 * TTY, the compact progress line on a TTY, plain lines for several lanes, the
 * raw console with --raw, nothing with --quiet; and the closing summary.
 */
import { ConsoleView, summarize } from '../../reporters/console.js';
import { ProgressView } from '../../reporters/progress.js';
import type { KtapEvent, RunResult } from '../ktap/model.js';
import type { RunOutcome, RunRequest } from './run.js';

export interface ViewOptions {
  quiet: boolean;
  raw: boolean;
  tty: boolean;
  color: boolean;
  write: (text: string) => void;
}

/** Hooks to put into a RunRequest, and the closing summary. */
export function runView(o: ViewOptions): Pick<RunRequest, 'onEvent' | 'onRaw' | 'onPlan'> & { finish(outcome: RunOutcome): void } {
  let consoleView: ConsoleView | undefined;
  let progress: ProgressView | undefined;
  let multi = false;
  return {
    onPlan(lanes, suites) {
      if (o.quiet || o.raw) return;
      multi = lanes.length > 1;
      if (o.tty || multi) progress = new ProgressView({ write: o.write, tty: o.tty, color: o.color, suitesTotal: suites?.length });
      else consoleView = new ConsoleView({ write: o.write, color: o.color, live: true });
    },
    onEvent(e: KtapEvent, lane: number) {
      consoleView?.onEvent(e);
      progress?.onEvent(e, multi ? lane : undefined);
    },
    onRaw: o.raw && !o.quiet ? (chunk: Buffer) => { o.write(chunk.toString('utf8')); } : undefined,
    finish(outcome: RunOutcome) {
      progress?.stop();
      if (o.quiet) return;
      const r: RunResult = outcome.result;
      if (consoleView) consoleView.finish(r);
      else o.write(`Testing complete. ${summarize(r.counts)}\n`);
      o.write(`Output: ${outcome.outputDir} (${['results.json', ...outcome.rawLogs.map((p) => p.slice(outcome.outputDir.length + 1))].join(', ')})\n`);
    },
  };
}
