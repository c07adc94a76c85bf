/**
 * The KTAP parser for lines: each line passes each stage once — the console
 * filter (console-filter.ts), the grammar (grammar.ts), the tree builder
 * (tree.ts) — with lines in, typed events out (through a callback) and the
 * finished tree at the end. Pure.
 *
 * Accepted format: a kernel console log holding zero or more KTAP documents,
 * e.g.
 *
 *     [    0.66] KTAP version 1
 *     [    0.66] 1..2
 *     [    0.66]     KTAP version 1
 *     [    0.66]     # Subtest: example
 *     [    0.66]     1..1
 *     [    0.67] random: crng init done             <- unrelated, kept in the log
 *     [    0.67]     ok 1 example_simple_test
 *     [    0.67] ok 1 example
 *     [    0.68] Kernel panic - not syncing: ...    <- crash: test 2 crashed
 *
 * Every anomaly becomes a {@link Diagnostic}; nothing here throws on bad
 * input. Byte transports use {@link KtapStream} (index.ts), which puts the
 * line splitter in front.
 */
import { classify } from './grammar.js';
import { ConsoleFilter } from './console-filter.js';
import { DiagnosticList } from './diagnostics.js';
import type { LineInfo } from './line-splitter.js';
import type { KtapEvent, RunResult } from './model.js';
import { TreeBuilder, type FinishOptions } from './tree.js';

export type { FinishOptions } from './tree.js';

export interface ParserOptions {
  /** Receives every event as it happens. */
  onEvent?: (event: KtapEvent) => void;
  /** Keep the finished tree for {@link KtapParser.finish} (default true). */
  retain?: boolean;
  /** Diagnostics kept per code before they are only counted (default 50). */
  maxDiagnosticsPerCode?: number;
  /**
   * Emit `log` events (default true). Turn off when no listener reads them:
   * one event per log line is most of the parser's allocations.
   */
  logEvents?: boolean;
}

export class KtapParser {
  private readonly filter = new ConsoleFilter();
  private readonly diagnostics: DiagnosticList;
  private readonly builder: TreeBuilder;
  private lines = 0;
  private finished: RunResult | undefined;

  constructor(options: ParserOptions = {}) {
    this.diagnostics = new DiagnosticList(options.onEvent, options.maxDiagnosticsPerCode ?? 50);
    this.builder = new TreeBuilder({
      emit: options.onEvent,
      emitLog: options.logEvents === false ? undefined : options.onEvent,
      retain: options.retain ?? true,
      diagnostics: this.diagnostics,
    });
  }

  /**
   * Feed one line (no newline). `arrivalMs` is the caller's clock for this
   * line (e.g. when it came off the serial port), used for durations when
   * the line has no printk timestamp.
   */
  push(raw: string, info?: LineInfo, arrivalMs?: number): void {
    if (this.finished) throw new Error('KtapParser.push() after finish()');
    const lineNo = ++this.lines;
    if (info !== undefined) {
      if (info.truncatedFrom !== undefined) {
        this.diagnostics.add('line-truncated', `line of ${info.truncatedFrom} bytes cut to its first bytes`, 'warning', lineNo);
      }
      if (info.invalidUtf8) this.diagnostics.add('invalid-utf8', 'invalid UTF-8 replaced by U+FFFD', 'info', lineNo);
    }
    const f = this.filter;
    const b = this.builder;
    const kind = f.read(raw, b.inDocument);
    const time = f.time === f.time ? f.time : arrivalMs !== undefined ? arrivalMs / 1000 : NaN;
    if (kind === 'crash') b.crash(lineNo, time, raw.slice(f.from), f.crash!);
    else if (kind === 'foreign') b.foreign(lineNo, time, raw);
    else if (b.line(lineNo, time, classify(raw, f.from), raw, f.from)) f.documentStarted();
  }

  /** End of input: close what is open and return the result. Idempotent. */
  finish(options: FinishOptions = {}): RunResult {
    this.finished ??= this.builder.finish(options);
    return this.finished;
  }
}
