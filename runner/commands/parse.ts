/**
 * `kunit-bridge parse`: replay a saved console log through the KTAP core,
 * print the summary, write the reports. A library function: no argv, no
 * process.exit; the CLI maps the returned verdict to an exit code.
 */
import { warnStderr } from '../stdout.js';
import { createReadStream, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KtapStream } from '../ktap/index.js';
import type { KtapEvent, RunResult } from '../ktap/model.js';
import { ConsoleView } from '../../reporters/console.js';
import { REPORT_PATH_FIELDS } from '../../reporters/catalog.js';
import type { ReportRequest } from '../reports.js';
import { inputError } from '../errors.js';
import { bannerMetadata } from '../kernel-version.js';
import { wantsGate, type GateRequest } from '../gate/request.js';

/** Read size for files: big reads, one reused buffer (the splitter copies what it keeps). */
const READ_SIZE = 1 << 20;

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
  /** `--known`, `--baseline`, `--strict-known` (docs/gating.md). */
  gate?: GateRequest;
  /** The log's architecture, for known entries limited to some (`--arch`). */
  arch?: string;
  /** Print GitHub Actions annotations for the failures (`GITHUB_ACTIONS=true`). */
  annotate?: boolean;
  /** One-line warnings (default: stderr). */
  warn?: (message: string) => void;
  /** Streamed reports may be written by a second thread too (default: more than one core; runner/report-threads.ts). */
  reportThreads?: boolean;
}

export async function parseCommand(req: ParseRequest): Promise<RunResult> {
  const write =
    req.write ??
    ((t: string) => {
      process.stdout.write(t);
    });
  const view = req.quiet ? undefined : new ConsoleView({ write, color: req.color ?? false });
  const onEvent = view ? (e: KtapEvent) => view.onEvent(e) : undefined;
  // Bad gate files are usage errors before the log is read.
  const gating = wantsGate(req.gate) || req.annotate === true ? await import('../gate/index.js') : undefined;
  const gate = gating && wantsGate(req.gate) ? gating.loadGate(req.gate) : undefined;
  // Report paths, not options (a KCIDB origin is always set): a summary alone keeps no tree.
  const needTree = REPORT_PATH_FIELDS.some((f) => (req.reports[f] ?? '') !== '') || gating !== undefined;
  // Loaded only when asked for: the reporters' dependencies take longer to load than a big log to parse.
  const reports = needTree ? await import('../reports.js') : undefined;
  // No gate and only reports that stream: written suite by suite as the log is read, no tree kept.
  const threads = reports && !gating && reports.ReportStream.possible(req.reports) ? await import('../report-threads.js') : undefined;
  const streamed = threads?.streamReports(req.reports, req.reportThreads);
  const onEvents = streamed
    ? (e: KtapEvent) => {
        onEvent?.(e);
        streamed.onEvent(e);
      }
    : onEvent;
  // The console view reads no `log` events: do not make them.
  // Streamed, the reports' worker parses with the same options (runner/report-threads.ts).
  const stream = new KtapStream({ onEvent: onEvents, ...(threads ? threads.STREAMED_PARSE : { retain: needTree, logEvents: false }) });
  // The bytes go to the reports' worker too, if any (it parses them itself); wait when it is behind.
  const feed: Feed = streamed
    ? (bytes) => {
        const wait = streamed.input(bytes);
        stream.write(bytes);
        return wait;
      }
    : (bytes) => {
        stream.write(bytes);
        return undefined;
      };
  try {
    if (req.stream || req.input === '-') await readStream(req.stream ?? process.stdin, req.input, feed);
    else await readFile(req.input, feed);
  } catch (err) {
    await streamed?.abort();
    throw err;
  }
  const result = stream.finish();
  result.metadata['source'] = req.input === '-' ? 'stdin' : req.input;
  if (!req.stream && req.input !== '-') Object.assign(result.metadata, bannerMetadata(await head(req.input)));
  if (req.arch !== undefined) result.metadata['arch'] = req.arch;
  // The summary first: a report that cannot be written must not hide it.
  if (gating) {
    gating.finishGate(result, gate, {
      view,
      write,
      annotate: req.annotate === true,
      quiet: req.quiet === true,
      warn: req.warn ?? warnStderr,
    });
  } else view?.finish(result);
  if (streamed) await streamed.finish(result);
  else reports?.writeReports(result, req.reports);
  return result;
}

/** Where the log's bytes go, in order; a promise: wait before the next (the caller's buffer is still read). */
type Feed = (bytes: Uint8Array) => Promise<void> | undefined;

/** A file: synchronous reads into one buffer, which is fastest for a local file. */
async function readFile(path: string, feed: Feed): Promise<void> {
  // Open first so a missing file is a clear input error.
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw inputError(path, err);
  });
  try {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    for (;;) {
      let n: number;
      try {
        n = readSync(fh.fd, buf, 0, READ_SIZE, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw inputError(path, err);
        // A non-blocking descriptor (a pipe or terminal given by path): read it as a stream.
        await readStream(createReadStream('', { fd: fh.fd, autoClose: false, highWaterMark: READ_SIZE }), path, feed);
        return;
      }
      if (n === 0) break;
      // Only read errors are input errors; a parser exception is a bug and must surface as one.
      const wait = feed(buf.subarray(0, n));
      if (wait) await wait;
    }
  } finally {
    await fh.close();
  }
}

/** The first MiB of a file (the kernel's banner is near the top), or '' when it cannot be read again. */
async function head(path: string): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(1 << 20), 0, 1 << 20, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

async function readStream(source: Readable, input: string, feed: Feed): Promise<void> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch (err) {
      throw inputError(input, err);
    }
    if (next.done) break;
    const wait = feed(next.value);
    if (wait) await wait;
  }
}
