/**
 * The KTAP core in one place: bytes or lines in, events and a finished
 * {@link RunResult} out. Pure. Every transport feeds a {@link KtapStream}:
 * bytes (serial console, SSH, a file) with `write`, lines that come whole
 * (the in-guest agent's records) with `line`.
 *
 *     bytes → line splitter → console filter → grammar → tree builder → events, RunResult
 */
import { LineSplitter, type LineInfo, type LineSplitterOptions } from './line-splitter.js';
import { KtapParser, type FinishOptions, type ParserOptions } from './parser.js';
import type { RunResult } from './model.js';

export * from './model.js';
export { KtapParser, type FinishOptions, type ParserOptions } from './parser.js';
export { LineSplitter, type LineInfo } from './line-splitter.js';
export { printkTime } from './console-filter.js';

export type KtapStreamOptions = ParserOptions &
  LineSplitterOptions & {
    /** Caller's clock (ms) for each line, used for durations when lines carry no printk time. */
    clock?: () => number;
    /**
     * Sees every line split from {@link KtapStream.write}'s bytes before the
     * parser does; return false to keep it from the parser (a transport that
     * joins two sources of the same log then feeds the lines it picks with
     * {@link KtapStream.line}).
     */
    onLine?: (text: string, info: LineInfo | undefined) => boolean;
  };

/** The line splitter and the parser joined: feed chunks of any size or whole lines, get events, finish for the tree. */
export class KtapStream {
  private readonly parser: KtapParser;
  private readonly splitter: LineSplitter;
  private readonly clock: (() => number) | undefined;

  constructor(options: KtapStreamOptions = {}) {
    const parser = new KtapParser(options);
    const clock = options.clock;
    const onLine = options.onLine;
    this.parser = parser;
    this.clock = clock;
    this.splitter = new LineSplitter(
      onLine
        ? (text, info) => {
            if (onLine(text, info)) this.line(text, info);
          }
        : clock
          ? (text, info) => parser.push(text, info, clock())
          : (text, info) => parser.push(text, info),
      options,
    );
  }

  /** Bytes (or text) of the console, in chunks of any size. */
  write(chunk: Uint8Array | string): void {
    this.splitter.push(chunk);
  }

  /** One whole line (no newline), from a transport that delivers lines. */
  line(text: string, info?: LineInfo): void {
    if (this.clock) this.parser.push(text, info, this.clock());
    else this.parser.push(text, info);
  }

  /** The bytes ended: a last line without newline is passed on. Idempotent; {@link finish} does it too. */
  end(): void {
    this.splitter.end();
  }

  /** End of input: the finished result. */
  finish(options?: FinishOptions): RunResult {
    this.splitter.end();
    return this.parser.finish(options);
  }
}

/** Parse a whole log given as text or bytes. */
export function parseLog(input: string | Uint8Array, options: KtapStreamOptions = {}): RunResult {
  const stream = new KtapStream(options);
  stream.write(input);
  return stream.finish();
}

/** Split bytes into lines as the stream does, for a caller that routes lines itself. */
export function splitLines(input: Uint8Array | string, sink: (text: string, info: LineInfo | undefined) => void): void {
  const splitter = new LineSplitter(sink);
  splitter.push(input);
  splitter.end();
}
