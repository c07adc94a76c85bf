/**
 * Streamed reports on two cores: some of the reports a parse streams are
 * written by a worker thread (runner/report-worker.ts) that parses the same
 * bytes itself; the others here, from this thread's events. Handing the worker
 * the log's bytes costs a copy into a few reused buffers; handing it parsed
 * tests would cost more than parsing them again (structured clone). The worker
 * finishes its reports with this thread's finished run, so every report is
 * what one thread would have written. One core (or none to spare), one report,
 * or no built worker (running from the TypeScript sources): every report is
 * written here.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FileReporter } from '../reporters/types.js';
import type { KtapEvent, RunResult } from './ktap/model.js';
import { BridgeError } from './errors.js';
import { ReportStream, requested, written, type ReportRequest, type StreamOutcome } from './reports.js';

/** The reports a parse streams, wherever they are written. */
export interface StreamedReports {
  /** The log's next bytes, before they are parsed here; a promise when the worker is behind (wait for it). */
  input(bytes: Uint8Array): Promise<void> | undefined;
  onEvent(e: KtapEvent): void;
  /** The log could not be read: no report is written, no temporary file left. */
  abort(): Promise<void>;
  /** The paths written, or the first failure (E_REPORT_WRITE) once all are done. */
  finish(result: RunResult): Promise<string[]>;
}

/** Main thread → worker. */
export type ToWorker = { type: 'input'; bytes: Uint8Array; length: number } | { type: 'finish'; result: RunResult } | { type: 'abort' };

/** Worker → main thread; an error is sent as its code and message. */
export type FromWorker =
  | { type: 'buffer'; bytes: Uint8Array }
  | { type: 'done'; outcomes: Array<{ path: string; error?: { code: BridgeError['code']; message: string } }> }
  | { type: 'aborted' };

/** What the worker is started with. */
export interface WorkerSetup {
  options: ReportRequest;
  reports: Array<[string, string]>;
}

/** Buffers of the log's bytes on their way to the worker: at most this many, of this size (bounded memory). */
const BUFFERS = 8;
const BUFFER_SIZE = 1 << 20;

/**
 * Rough CPU cost of each streamed report on the benchmark's log, in tenths of the parse (the
 * worker parses the log too): which reports go to the worker. Measured per thread (perf, cpu-clock)
 * with JUnit + TAP + JSON: the worker writing JSON and this thread the two others is the closest
 * balance (docs/benchmarks.md).
 */
const COST: Record<string, number> = { json: 14, junit: 13, tap: 9, 'kunit-json': 8 };
const PARSE = 10;

const WORKER = new URL('./report-worker.js', import.meta.url);

/** The parser's options when the reports stream (no tree, no `log` events): the main thread's and the worker's. */
export const STREAMED_PARSE = { retain: false, logEvents: false } as const;

/**
 * Which of `reports` the worker writes: the costliest first, each to the thread with less work
 * so far (this one also reads the log and starts first); none when it would not help.
 */
export function split(reports: ReadonlyArray<readonly [FileReporter, string]>): boolean[] {
  const toWorker = reports.map(() => false);
  if (reports.length < 2) return toWorker;
  const cost = (i: number): number => COST[reports[i]![0].name] ?? PARSE;
  let here = PARSE + 1;
  let there = PARSE;
  for (const i of reports.map((_, i) => i).sort((a, b) => cost(b) - cost(a))) {
    if (there < here) {
      toWorker[i] = true;
      there += cost(i);
    } else here += cost(i);
  }
  return toWorker;
}

/**
 * Whether a second thread would find a core: more than one, and fewer runnable tasks than cores
 * over the last minute. On a busy machine the worker's second parse only adds work (measured:
 * slower than one thread at a load of 3–4 on 2 cores; docs/benchmarks.md). The reports are the
 * same bytes either way.
 */
export function coreToSpare(cores = availableParallelism(), load = loadavg()[0] ?? 0): boolean {
  return cores > 1 && load < cores;
}

/**
 * The reports of `req` streamed on as many threads as help: `worker` (default: {@link coreToSpare})
 * allows the second one.
 */
export function streamReports(req: ReportRequest, worker = coreToSpare()): StreamedReports {
  const reports = requested(req, []);
  const toWorker = worker && existsSync(fileURLToPath(WORKER)) ? split(reports) : reports.map(() => false);
  if (!toWorker.includes(true)) return new OneThread(new ReportStream(req, reports));
  return new TwoThreads(req, reports, toWorker);
}

/** Every report in this thread. */
class OneThread implements StreamedReports {
  constructor(private readonly stream: ReportStream) {}

  input(): undefined {
    return undefined;
  }

  onEvent(e: KtapEvent): void {
    this.stream.onEvent(e);
  }

  async abort(): Promise<void> {
    this.stream.abort();
  }

  async finish(result: RunResult): Promise<string[]> {
    return this.stream.finish(result);
  }
}

/** Some reports here, the others in a worker fed the same bytes. */
class TwoThreads implements StreamedReports {
  private readonly here: ReportStream;
  private readonly worker: Worker;
  /** Which report (by its place in the request) each side writes. */
  private readonly places: { here: number[]; there: number[] };
  private readonly free: Uint8Array[] = [];
  private made = 0;
  private waiting: (() => void) | undefined;
  private replied: ((m: FromWorker) => void) | undefined;
  private failed: unknown;

  constructor(req: ReportRequest, reports: ReadonlyArray<readonly [FileReporter, string]>, toWorker: readonly boolean[]) {
    this.places = { here: [], there: [] };
    reports.forEach((_, i) => (toWorker[i] ? this.places.there : this.places.here).push(i));
    this.here = new ReportStream(
      req,
      this.places.here.map((i) => reports[i]!),
    );
    const setup: WorkerSetup = { options: req, reports: this.places.there.map((i) => [reports[i]![0].name, reports[i]![1]]) };
    this.worker = new Worker(WORKER, { workerData: setup });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'buffer') {
        this.free.push(m.bytes);
        this.wake();
      } else this.replied?.(m);
    });
    // A bug in the worker (it catches every write error): surfaced, not waited for.
    this.worker.on('error', (err) => {
      this.failed ??= err;
      this.wake();
      this.replied?.({ type: 'aborted' });
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private newBuffer(): Uint8Array | undefined {
    if (this.made === BUFFERS) return undefined;
    this.made++;
    return new Uint8Array(BUFFER_SIZE);
  }

  input(bytes: Uint8Array): Promise<void> | undefined {
    for (let at = 0; at < bytes.length; ) {
      if (this.failed) return undefined;
      const buf = this.free.pop() ?? this.newBuffer();
      if (!buf) {
        const rest = bytes.subarray(at);
        return new Promise<void>((resolve) => {
          this.waiting = resolve;
        }).then(() => this.input(rest));
      }
      const n = Math.min(buf.length, bytes.length - at);
      buf.set(bytes.subarray(at, at + n));
      this.post({ type: 'input', bytes: buf, length: n }, [buf.buffer as ArrayBuffer]);
      at += n;
    }
    return undefined;
  }

  onEvent(e: KtapEvent): void {
    this.here.onEvent(e);
  }

  /** Send `m` and wait for the worker's reply; the worker is stopped after it. */
  private async ask(m: ToWorker): Promise<FromWorker> {
    const reply = this.failed
      ? ({ type: 'aborted' } as const)
      : await new Promise<FromWorker>((resolve) => {
          this.replied = resolve;
          this.post(m);
        });
    await this.worker.terminate();
    if (this.failed) throw this.failed;
    return reply;
  }

  async abort(): Promise<void> {
    this.here.abort();
    await this.ask({ type: 'abort' });
  }

  async finish(result: RunResult): Promise<string[]> {
    // The worker finishes its reports while these are finished here.
    const asked = this.ask({ type: 'finish', result });
    const here = this.here.settle(result);
    const reply = await asked;
    const there: StreamOutcome[] =
      reply.type === 'done'
        ? reply.outcomes.map((o) => (o.error ? { path: o.path, error: new BridgeError(o.error.code, o.error.message) } : { path: o.path }))
        : [];
    const outcomes: StreamOutcome[] = [];
    this.places.here.forEach((place, i) => (outcomes[place] = here[i]!));
    this.places.there.forEach((place, i) => (outcomes[place] = there[i]!));
    return written(outcomes);
  }
}
