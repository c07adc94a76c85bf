/**
 * What a build shows while it runs: on a TTY one line rewritten in place
 * (objects compiled, the estimate, the current step, elapsed); off a TTY a
 * plain line every {@link PLAIN_EVERY_MS} (CI logs); nothing with --quiet.
 * Then one summary line: the image, the time, what was done.
 */
import type { BuildRecord } from './record.js';
import { clock, progressLine, type ProgressSnapshot } from './progress.js';

export const PLAIN_EVERY_MS = 15_000;
const TTY_EVERY_MS = 100;

export interface BuildViewOptions {
  quiet: boolean;
  tty: boolean;
  write: (text: string) => void;
  now?: () => number;
}

export interface BuildView {
  onStep(what: string): void;
  onNote(text: string): void;
  onProgress(p: Readonly<ProgressSnapshot>, elapsedMs: number, estimate: number | undefined): void;
  /** Clear the progress line (before an error or the summary). */
  clear(): void;
  /** The summary line (`shownImage`: the image as the user should read it). */
  finish(record: BuildRecord, shownImage: string, log: string): void;
}

/** The summary: `built arch/x86/boot/bzImage in 5:12: 1234 objects compiled, configuration made (log …)`. */
export function summaryLine(record: BuildRecord, shownImage: string, log: string): string {
  const what = !record.makeRun
    ? 'nothing changed, make not run'
    : record.objectsCompiled === 0 && !record.reconfigured
      ? 'nothing to recompile'
      : `${record.objectsCompiled} objects compiled, configuration ${record.reconfigured ? 'made' : 'unchanged'}`;
  return `built ${shownImage} in ${clock(record.durationMs)}: ${what} (log: ${log})`;
}

export function buildView(o: BuildViewOptions): BuildView {
  const now = o.now ?? Date.now;
  let last = 0;
  let drawn = false;
  const clear = (): void => {
    if (drawn) o.write('\r\x1b[K');
    drawn = false;
  };
  return {
    onStep(what) {
      if (o.quiet) return;
      clear();
      o.write(`kunit-bridge: $ ${what}\n`);
    },
    onNote(text) {
      if (o.quiet) return;
      clear();
      o.write(`kunit-bridge: ${text}\n`);
    },
    onProgress(p, elapsedMs, estimate) {
      if (o.quiet) return;
      const t = now();
      if (t - last < (o.tty ? TTY_EVERY_MS : PLAIN_EVERY_MS)) return;
      last = t;
      const line = `kunit-bridge: ${progressLine(p, elapsedMs, estimate)}`;
      if (o.tty) {
        o.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
        drawn = true;
      } else o.write(`${line}\n`);
    },
    clear,
    finish(record, shownImage, log) {
      clear();
      if (!o.quiet) o.write(`kunit-bridge: ${summaryLine(record, shownImage, log)}\n`);
    },
  };
}
