/**
 * The live view of `run`, fed by the parser's events of every lane.
 *
 * On a TTY: one status line redrawn in place —
 *
 *     ▶ suites 12/47 · 120 passed · 1 failed · 5 skipped · example.example_skip_test · 3.2 s
 *
 * with each failure printed above it as it happens. Off a TTY (CI logs):
 * one plain line per finished test, failures with their log.
 */
import type { KtapEvent, TestNode } from '../runner/ktap/model.js';
import { RULES } from '../runner/ktap/status.js';

export interface ProgressOptions {
  write: (text: string) => void;
  tty: boolean;
  color: boolean;
  /** Number of suites expected, when known (from the test list). */
  suitesTotal?: number;
  now?: () => number;
}

export class ProgressView {
  private readonly o: ProgressOptions;
  private readonly start: number;
  private passed = 0;
  private failed = 0;
  private skipped = 0;
  private suitesDone = 0;
  private current = '';
  /** Paths of the tests that failed, crashed or timed out, in the order they did. */
  readonly failures: string[] = [];
  private statusShown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.o = options;
    this.start = (options.now ?? Date.now)();
    if (options.tty) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  private paint(code: string, s: string): string {
    return this.o.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }

  private print(text: string): void {
    if (this.o.tty && this.statusShown) this.o.write('\r\x1b[2K');
    this.o.write(text);
    this.statusShown = false;
    if (this.o.tty) this.draw();
  }

  /** Handle one event; `lane` is shown off a TTY when several lanes run. */
  onEvent(e: KtapEvent, lane?: number): void {
    if (e.type === 'test-start') {
      this.current = e.path.join('.');
      return;
    }
    if (e.type !== 'test-end') return;
    const t = e.test;
    const name = e.path.join('.');
    if (t.children.length > 0 || t.plan !== undefined) {
      if (e.path.length === 1) this.suitesDone++;
      if (!this.o.tty) this.print(`${this.label(t)} ${name}${lane !== undefined ? `  (lane ${lane + 1})` : ''}\n`);
      return;
    }
    const shown = RULES[t.status].shown;
    if (shown === 'pass') this.passed++;
    else if (shown === 'fail') this.failed++;
    else if (t.status !== 'no-tests') this.skipped++;
    if (e.path.length === 1) this.suitesDone++;
    this.current = name;
    if (shown === 'fail') {
      if (!this.failures.includes(name)) this.failures.push(name);
      this.print(this.failure(name, t));
    } else if (!this.o.tty) this.print(`${this.label(t)} ${name}${t.reason ? `  # ${t.reason}` : ''}\n`);
  }

  private label(t: TestNode): string {
    const rule = RULES[t.status];
    return this.paint(rule.color, `[${rule.label}]`);
  }

  private failure(name: string, t: TestNode): string {
    const lines = [`${this.label(t)} ${name}${t.reason ? `  # ${t.reason}` : ''}`];
    for (const l of t.log.slice(0, 30)) lines.push(`    ${l}`);
    if (t.crash) {
      lines.push(`    kernel crash: ${t.crash.reason}`);
      for (const l of t.crash.trace.slice(1, 12)) lines.push(`      ${l}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private draw(): void {
    if (!this.o.tty) return;
    const secs = (((this.o.now ?? Date.now)() - this.start) / 1000).toFixed(1);
    const suites = this.o.suitesTotal ? `suites ${this.suitesDone}/${this.o.suitesTotal}` : `suites ${this.suitesDone}`;
    const parts = [suites, this.paint('32', `${this.passed} passed`)];
    if (this.failed) parts.push(this.paint('31', `${this.failed} failed`));
    if (this.skipped) parts.push(this.paint('33', `${this.skipped} skipped`));
    if (this.current) parts.push(this.current.length > 50 ? `…${this.current.slice(-49)}` : this.current);
    parts.push(`${secs} s`);
    this.o.write(`\r\x1b[2K▶ ${parts.join(' · ')}`);
    this.statusShown = true;
  }

  /** Stop redrawing and clear the status line. */
  stop(): void {
    clearInterval(this.timer);
    if (this.o.tty && this.statusShown) this.o.write('\r\x1b[2K');
    this.statusShown = false;
  }
}
