/**
 * The worker thread of runner/report-threads.ts: parses the log's bytes it is
 * sent, as the main thread does, and streams its share of the reports from its
 * own events; finishes them with the main thread's finished run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { reporterByName } from '../reporters/index.js';
import type { FileReporter } from '../reporters/types.js';
import { KtapStream } from './ktap/index.js';
import { ReportStream } from './reports.js';
import { STREAMED_PARSE, type FromWorker, type ToWorker, type WorkerSetup } from './report-threads.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const reports = new ReportStream(
  setup.options,
  setup.reports.map(([name, path]): [FileReporter, string] => [reporterByName(name)!, path]),
);
// The same options as the main thread's parse (runner/commands/parse.ts).
const stream = new KtapStream({ onEvent: (e) => reports.onEvent(e), ...STREAMED_PARSE });
const reply = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

port.on('message', (m: ToWorker) => {
  try {
    handle(m);
  } catch (err) {
    // A bug: no temporary file left behind; the main thread gets the error.
    reports.abort();
    throw err;
  }
});

function handle(m: ToWorker): void {
  if (m.type === 'input') {
    stream.write(m.bytes.subarray(0, m.length));
    reply({ type: 'buffer', bytes: m.bytes }, [m.bytes.buffer as ArrayBuffer]);
  } else if (m.type === 'abort') {
    reports.abort();
    reply({ type: 'aborted' });
  } else {
    stream.finish();
    const outcomes = reports
      .settle(m.result)
      .map((o) => (o.error ? { path: o.path, error: { code: o.error.code, message: o.error.message } } : { path: o.path }));
    reply({ type: 'done', outcomes });
  }
}
