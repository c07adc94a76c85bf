/**
 * `kunit-bridge parse`: replay a saved console log through the KTAP core,
 * print the summary, write the reports. A library function: no argv, no
 * process.exit; the CLI maps the returned verdict to an exit code.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KtapStream } from '../ktap/index.js';
import type { KtapEvent, RunResult } from '../ktap/model.js';
import { ConsoleView } from '../../reporters/console.js';
import { writeReports, type ReportRequest } from '../reports.js';
import { inputError } from '../errors.js';

export interface ParseRequest {
  /** Path of the log, or `-` for stdin. */
  input: string;
  reports: ReportRequest;
  /** Print nothing but errors. */
  quiet?: boolean;
  color?: boolean;
  /** Where the summary goes (default process.stdout). */
  write?: (text: string) => void;
  /** Input stream to use instead of opening `input` (tests). */
  stream?: Readable;
}

export async function parseCommand(req: ParseRequest): Promise<RunResult> {
  let source: Readable;
  if (req.stream) source = req.stream;
  else if (req.input === '-') source = process.stdin;
  else {
    // Open first so a missing file is a clear input error, not a stream error.
    const fh = await open(req.input, 'r').catch((err: unknown) => { throw inputError(req.input, err); });
    source = createReadStream('', { fd: fh.fd, highWaterMark: 1 << 20 });
  }
  const write = req.write ?? ((t: string) => { process.stdout.write(t); });
  const view = req.quiet ? undefined : new ConsoleView({ write, color: req.color ?? false });
  const onEvent = view ? (e: KtapEvent) => view.onEvent(e) : undefined;
  const needTree = Object.values(req.reports).some((v) => typeof v === 'string' && v !== '');
  const stream = new KtapStream({ onEvent, retain: needTree });
  // Only read errors are input errors; a parser exception is a bug and must surface as one.
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch (err) {
      throw inputError(req.input, err);
    }
    if (next.done) break;
    stream.write(next.value);
  }
  const result = stream.finish();
  result.metadata['source'] = req.input === '-' ? 'stdin' : req.input;
  // The summary first: a report that cannot be written must not hide it.
  view?.finish(result);
  writeReports(result, req.reports);
  return result;
}
