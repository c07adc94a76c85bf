/**
 * The human summary, printed as the parser's events arrive (like kunit.py's):
 *
 *     =============== example (4 subtests) ================
 *     [PASSED] example_simple_test
 *     [SKIPPED] example_skip_test  # this test should be skipped
 *     [FAILED] example_fail_test
 *         # example_fail_test: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:29
 *     ================= [FAILED] example ==================
 *     Testing complete. Ran 4 tests: passed: 2, failed: 1, skipped: 1
 *
 * Failures show their log; crashes their trace. Colour only when asked
 * (a TTY without NO_COLOR: see {@link shouldColor}).
 */
import type { Counts, KtapEvent, RunResult, TestNode, TestStatus } from '../runner/ktap/model.js';
import { flakyTests } from '../runner/ktap/model.js';
import { unknownFailures } from './gate-summary.js';
import {
  crashOutsideTests,
  isNormalEnd,
  isShownFailing,
  RULES,
  STATUS_RULES,
  SUMMARY_ORDER,
  verdictReason,
} from '../runner/ktap/status.js';

const WIDTH = 60;
const LOG_LINES_SHOWN = 60;

/** Colour on a TTY unless NO_COLOR is set (non-empty); FORCE_COLOR forces it. */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR']) return false;
  if (env['FORCE_COLOR'] && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

export interface ConsoleViewOptions {
  write: (text: string) => void;
  color?: boolean;
  /** Print passing tests too (default true, like kunit.py). */
  showPassed?: boolean;
  /** Write out after every event (a live run) instead of in large blocks (a replay). */
  live?: boolean;
}

/** Streams the summary from parser events; call {@link finish} with the result. */
export class ConsoleView {
  private readonly out: (text: string) => void;
  private readonly color: boolean;
  private readonly showPassed: boolean;
  private readonly live: boolean;
  private buf = '';
  private readonly headed = new Set<string>();
  /** The parent path of the last leaf printed, already headed (saves a join per leaf). */
  private lastParent: string[] = [];
  /** `[PASSED]` etc., painted once. */
  private readonly labels: Record<TestStatus, string>;
  private readonly failures: string[] = [];
  private notRun = 0;

  constructor(options: ConsoleViewOptions) {
    this.out = options.write;
    this.color = options.color ?? false;
    this.showPassed = options.showPassed ?? true;
    this.live = options.live ?? false;
    const labels = {} as Record<TestStatus, string>;
    for (const r of STATUS_RULES) labels[r.status] = this.paint(r.color, `[${r.label}]`);
    this.labels = labels;
  }

  private paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  private line(text: string): void {
    this.buf += `${text}\n`;
    if (this.buf.length > 65536) this.flush();
  }

  flush(): void {
    if (this.buf.length > 0) {
      this.out(this.buf);
      this.buf = '';
    }
  }

  private rule(title: string): string {
    const t = title === '' ? '' : ` ${title} `;
    const left = Math.max(2, Math.floor((WIDTH - t.length) / 2));
    const right = Math.max(2, WIDTH - t.length - left);
    return `${'='.repeat(left)}${t}${'='.repeat(right)}`;
  }

  private header(path: string[], plan?: number): void {
    const key = path.join('\u0000');
    if (this.headed.has(key)) return;
    this.headed.add(key);
    const name = path.join('.');
    const count = plan === undefined ? '' : ` (${plan} subtest${plan === 1 ? '' : 's'})`;
    this.line(this.rule(`${name}${count}`));
  }

  onEvent(e: KtapEvent): void {
    switch (e.type) {
      case 'document-start':
        this.line(this.rule(e.document === 0 ? '' : `KTAP document ${e.document + 1} (line ${e.line})`));
        // A suite again in a later document (a debugfs re-run, run --repeat) gets its header again.
        this.headed.clear();
        this.lastParent = [];
        break;
      case 'plan':
        if (e.path.length > 0) this.header(e.path, e.count);
        break;
      case 'test-end':
        this.testEnd(e.path, e.test);
        break;
      case 'document-end':
        if (!e.document.complete) this.line(this.paint('31', `KTAP document ${e.document.index + 1} did not complete`));
        break;
      default:
        break;
    }
    if (this.live) this.flush();
  }

  private testEnd(path: string[], test: TestNode): void {
    const label = this.labels[test.status];
    if (test.children.length > 0 || test.plan !== undefined) {
      this.header(path, test.plan);
      this.details(test, '', false);
      this.line(this.rule(`${label} ${path.join('.')}`));
      this.line('');
      return;
    }
    if (path.length > 1 && !this.sameParent(path)) {
      const parent = path.slice(0, -1);
      if (!this.headed.has(parent.join('\u0000'))) this.header(parent);
      this.lastParent = parent;
    }
    const bad = isShownFailing(test.status);
    if (test.status === 'pass' && !this.showPassed) return;
    const reason = test.reason ? `  # ${test.reason}` : '';
    this.line(`${label} ${test.name}${reason}`);
    if (test.status === 'not-run') this.notRun++;
    else if (bad) {
      if (!this.failures.includes(path.join('.'))) this.failures.push(path.join('.')); // a repeated suite fails again
      this.details(test, '    ', true);
    }
  }

  /** Is `path`'s parent the last leaf's parent (which has its header)? */
  private sameParent(path: string[]): boolean {
    const last = this.lastParent;
    if (last.length !== path.length - 1) return false;
    for (let i = 0; i < last.length; i++) if (last[i] !== path[i]) return false;
    return true;
  }

  private details(test: TestNode, indent: string, showCrash: boolean): void {
    if (RULES[test.status].effect === 'pass' || RULES[test.status].effect === 'neutral') return;
    const lines = test.log.slice(0, LOG_LINES_SHOWN);
    for (const l of lines) this.line(`${indent}${l}`);
    if (test.log.length > LOG_LINES_SHOWN) this.line(`${indent}… ${test.log.length - LOG_LINES_SHOWN} more log lines`);
    if (test.crash && showCrash) {
      const trace = test.crash.trace;
      this.line(this.paint('1;31', `${indent}kernel crash: ${test.crash.reason}`));
      for (const l of trace.slice(1, 24)) this.line(`${indent}  ${l}`);
      if (trace.length > 25) this.line(`${indent}  … ${trace.length - 25} more lines (all in the reports and the raw log)`);
      if (trace.length > 24) this.line(`${indent}  ${trace[trace.length - 1]!}`);
    }
  }

  /** Print the closing summary and flush. */
  finish(result: RunResult, flaky: string[] = flakyTests(result)): void {
    this.line(this.rule(''));
    const c = result.counts;
    if (result.verdict === 'no-ktap') {
      this.line(this.paint('31', 'No KTAP found: did any KUnit tests run? (is CONFIG_KUNIT set, and is this the kernel console?)'));
    }
    const outside = crashOutsideTests(result);
    if (outside && isNormalEnd(outside)) {
      this.line(`Kernel stopped after the tests (its normal end, not a test failure): ${outside.reason}`);
    } else if (outside) {
      this.line(this.paint('1;31', `Kernel crashed outside any test: ${outside.reason}`));
      for (const l of outside.trace.slice(1, 24)) this.line(`  ${l}`);
    }
    for (const d of result.diagnostics) {
      if (d.severity === 'error' && d.code !== 'no-ktap' && d.code !== 'crash') {
        this.line(this.paint('31', `error: line ${d.line}: ${d.message}`));
      }
    }
    const failures = unknownFailures(this.failures, result); // known ones are listed by the gate's lines
    if (failures.length > 0) this.line(this.paint('31', `Failures: ${failures.join(', ')}`));
    if (flaky.length > 0) this.line(this.paint('33', `Flaky: ${flaky.join(', ')}`));
    if (this.notRun > 0)
      this.line(
        this.paint('33', `Not run: ${this.notRun} test${this.notRun === 1 ? '' : 's'} never started because the run stopped early`),
      );
    const why = verdictReason(result);
    if (why !== undefined && result.verdict !== 'no-ktap') this.line(this.paint('31', `Verdict: ${result.verdict}: ${why}`));
    this.line(`Testing complete. ${summarize(c)}`);
    this.flush();
  }
}

/** `Ran 192 tests: passed: 186, failed: 1, skipped: 5`. */
export function summarize(c: Counts): string {
  const parts: string[] = [];
  for (const status of SUMMARY_ORDER) {
    const { count, countLabel } = RULES[status];
    if (count && c[count] > 0) parts.push(`${countLabel}: ${c[count]}`);
  }
  return `Ran ${c.total} test${c.total === 1 ? '' : 's'}${parts.length ? ': ' : ''}${parts.join(', ')}`;
}
