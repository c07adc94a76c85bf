/**
 * The KTAP core in one place: bytes or lines in, events and a finished
 * {@link RunResult} out. Pure; every transport (serial, WebSocket, SSH, file
 * replay) feeds a {@link KtapStream}.
 */
import { LineSplitter, type LineSplitterOptions } from './line-splitter.js';
import { KtapParser, type FinishOptions, type ParserOptions } from './parser.js';
import type { RunResult } from './model.js';

export * from './model.js';
export { KtapParser, type FinishOptions, type ParserOptions } from './parser.js';
export { LineSplitter } from './line-splitter.js';

export type KtapStreamOptions = ParserOptions & LineSplitterOptions & {
  /** Caller's clock (ms) for each line, used for durations when lines carry no printk time. */
  clock?: () => number;
};

/** Splitter and parser joined: feed chunks of any size, get events, finish for the tree. */
export class KtapStream {
  readonly parser: KtapParser;
  private readonly splitter: LineSplitter;

  constructor(options: KtapStreamOptions = {}) {
    const parser = new KtapParser(options);
    const clock = options.clock;
    this.parser = parser;
    this.splitter = new LineSplitter(
      clock ? (text, info) => parser.push(text, info, clock()) : (text, info) => parser.push(text, info),
      options,
    );
  }

  write(chunk: Uint8Array | string): void {
    this.splitter.push(chunk);
  }

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
