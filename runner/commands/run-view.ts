/**
 * What `run` and `watch` show while tests run: a kunit.py-like stream for one
 * lane off a TTY, the compact progress line on a TTY, plain lines for several
 * lanes, the raw console as well with --raw, nothing with --quiet; and the
 * closing summary.
 */
import { ConsoleView, summarize } from '../../reporters/console.js';
import { gateLines, unknownFailures } from '../../reporters/gate-summary.js';
import { ProgressView } from '../../reporters/progress.js';
import type { KtapEvent, RunResult } from '../ktap/model.js';
import { flakyTests } from '../ktap/model.js';
import type { RunOutcome, RunRequest } from './run.js';

export interface ViewOptions {
  quiet: boolean;
  raw?: boolean;
  tty: boolean;
  color: boolean;
  write: (text: string) => void;
}

export interface LiveView {
  /** The run is planned: how many lanes, and how many suites when known. */
  onStart(lanes: number, suitesTotal: number | undefined): void;
  onEvent(e: KtapEvent, lane: number): void;
  /** Stop redrawing and print the summary. */
  /**
   * The closing summary; `flaky` defaults to what the result's tree says (watch has no tree);
   * `gate`: the gate's lines (reporters/gate-summary.ts), after it.
   */
  finish(result: RunResult, flaky?: string[], gate?: string[]): void;
}

export function liveView(o: ViewOptions): LiveView {
  let consoleView: ConsoleView | undefined;
  let progress: ProgressView | undefined;
  let multi = false;
  return {
    onStart(lanes, suitesTotal) {
      if (o.quiet || consoleView || progress) return;
      multi = lanes > 1;
      // With --raw the console is echoed too: no status line redrawn in its middle.
      const tty = o.tty && !o.raw;
      if (tty || multi) progress = new ProgressView({ write: o.write, tty, color: o.color, suitesTotal });
      else consoleView = new ConsoleView({ write: o.write, color: o.color, live: true });
    },
    onEvent(e, lane) {
      consoleView?.onEvent(e);
      progress?.onEvent(e, multi ? lane : undefined);
    },
    finish(result, flaky = flakyTests(result), gate = []) {
      progress?.stop();
      if (o.quiet) return;
      if (consoleView) {
        consoleView.finish(result, flaky);
      } else {
        const failures = progress ? unknownFailures(progress.failures, result) : [];
        if (failures.length > 0) o.write(`Failures: ${failures.join(', ')}\n`);
        if (flaky.length > 0) o.write(`Flaky: ${flaky.join(', ')}\n`);
        o.write(`Testing complete. ${summarize(result.counts)}\n`);
      }
      if (gate.length > 0) o.write(`${gate.join('\n')}\n`);
    },
  };
}

/** Hooks to put into a RunRequest, and the closing summary with the output directory. */
export function runView(o: ViewOptions): Pick<RunRequest, 'onEvent' | 'onRaw' | 'onPlan'> & { finish(outcome: RunOutcome): void } {
  const view = liveView(o);
  return {
    onPlan: (lanes, suites) => view.onStart(lanes.length, suites?.length),
    onEvent: (e, lane) => view.onEvent(e, lane),
    onRaw:
      o.raw && !o.quiet
        ? (chunk: Buffer) => {
            o.write(chunk.toString('utf8'));
          }
        : undefined,
    finish(outcome) {
      const g = outcome.result.gate;
      view.finish(outcome.result, undefined, g ? gateLines(g) : []);
      if (o.quiet) return;
      o.write(
        `Output: ${outcome.outputDir} (${['results.json', ...outcome.rawLogs.map((p) => p.slice(outcome.outputDir.length + 1))].join(', ')})\n`,
      );
    },
  };
}
