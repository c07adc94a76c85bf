/**
 * The end of every command that judges a result (`parse`, `run`, `compare`,
 * `merge`): apply the gate, print the summary and the gate's lines, the
 * warnings, and the GitHub annotations. One place, so every command shows the
 * same thing in the same order.
 */
import { gateLines } from '../../reporters/gate-summary.js';
import type { RunResult } from '../ktap/model.js';
import { githubAnnotations } from './annotations.js';
import { applyGate, type GateOptions } from './gate.js';

export interface FinishOptions {
  /** The console summary to close (its `Testing complete.` line comes first). */
  view?: { finish(result: RunResult): void };
  write: (text: string) => void;
  warn: (message: string) => void;
  /** GitHub Actions workflow commands for the failures. */
  annotate: boolean;
  quiet: boolean;
  /** Run-specific gate options (the architecture, a shard's scope). */
  extra?: Partial<GateOptions>;
}

/** Gate `result` (when `gate` is given), then print; returns the same result. */
export function finishGate(result: RunResult, gate: GateOptions | undefined, o: FinishOptions): RunResult {
  const outcome = gate ? applyGate(result, { ...gate, ...o.extra }) : undefined;
  for (const w of outcome?.warnings ?? []) o.warn(w);
  o.view?.finish(result);
  if (outcome && !o.quiet) o.write(`${gateLines(outcome).join('\n')}\n`);
  if (o.annotate) {
    const lines = githubAnnotations(result);
    if (lines.length > 0) o.write(`${lines.join('\n')}\n`);
  }
  return result;
}
