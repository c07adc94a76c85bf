/** Writing the file reports a command was asked for. */
import { FILE_REPORTERS, reporterByName } from '../reporters/index.js';
import { feedTree } from '../reporters/stream.js';
import type { FileReporter, Insertion, ReportOptions, ReportWriter } from '../reporters/types.js';
import type { KtapEvent, RunResult, TestNode } from './ktap/model.js';
import { FileSink } from './report-file.js';
import { writeFileAtomic } from './write-file.js';
import { BridgeError, describeFsError } from './errors.js';
import { reportField } from '../reporters/catalog.js';

/** Output paths by reporter name, plus reporter options. */
export interface ReportRequest extends ReportOptions {
  junit?: string;
  tap?: string;
  json?: string;
  kunitJson?: string;
  kcidb?: string;
  /** `--markdown`: the CI summary (reporters/markdown.ts). */
  markdown?: string;
}

export { REPORT_PATH_FIELDS, reportField, type ReportPathField } from '../reporters/catalog.js';

/** The reports asked for, `[reporter, path]`, the `always` ones first. */
export function requested(req: ReportRequest, always: ReadonlyArray<readonly [string, string]>): Array<[FileReporter, string]> {
  const out: Array<[FileReporter, string]> = [];
  for (const [name, path] of [...always, ...FILE_REPORTERS.map((r) => [r.name, req[reportField(r.name)]] as const)]) {
    if (typeof path === 'string' && path !== '') out.push([reporterByName(name)!, path]);
  }
  return out;
}

export const writeError = (name: string, path: string, err: unknown): BridgeError =>
  new BridgeError('E_REPORT_WRITE', `cannot write the ${name} report to ${path}: ${describeFsError(err)}`, { cause: err });

/** Streamed to a file (`-`, stdout, takes the whole string: it cannot be put together afterwards). */
const streams = (reporter: FileReporter, path: string): boolean => reporter.open !== undefined && path !== '-';

/**
 * Render and write every requested report, after the `always` ones (`[reporter, path]`: run's
 * results.json); returns the paths written. One that cannot be written does not stop the others:
 * the first failure is thrown (E_REPORT_WRITE, exit 2) once all have been tried. The big reports
 * are streamed to their files from the tree, never held whole in memory.
 */
export function writeReports(result: RunResult, req: ReportRequest, always: ReadonlyArray<readonly [string, string]> = []): string[] {
  const written: string[] = [];
  let failure: BridgeError | undefined;
  for (const [reporter, path] of requested(req, always)) {
    try {
      if (streams(reporter, path)) {
        const sink = new FileSink(path);
        let insertions: Insertion[];
        try {
          insertions = feedTree(reporter.open!(sink, req, result.groups), result);
        } catch (err) {
          sink.abort();
          throw err;
        }
        sink.commit(insertions);
      } else writeFileAtomic(path, reporter.render(result, req));
      written.push(path);
    } catch (err) {
      // Keep going: every other report is still written.
      failure ??= writeError(reporter.name, path, err);
    }
  }
  if (failure) throw failure;
  return written;
}

const hasCrash = (node: TestNode): boolean => node.crash !== undefined || node.children.some(hasCrash);

/** One report being streamed as the parse goes. */
interface Streamed {
  name: string;
  path: string;
  sink?: FileSink;
  writer?: ReportWriter;
  error?: BridgeError;
}

/** How one streamed report ended: its path, and why it was not written. */
export interface StreamOutcome {
  path: string;
  error?: BridgeError;
}

/**
 * The reports of a parse written as it goes, suite by suite, from the parser's
 * events (`test-end` of each top-level test): no tree is kept, so memory does
 * not grow with the run. For when every report asked for streams
 * ({@link ReportStream.possible}); otherwise keep the tree and {@link writeReports}.
 * runner/report-threads.ts runs some of them in a second thread.
 */
export class ReportStream {
  private readonly reports: Streamed[];

  /** Whether every report asked for can be streamed. */
  static possible(req: ReportRequest, always: ReadonlyArray<readonly [string, string]> = []): boolean {
    return requested(req, always).every(([r, path]) => streams(r, path));
  }

  /** `reports`: some of {@link requested}'s (all by default), each streamed with `options`. */
  constructor(req: ReportOptions, reports: ReadonlyArray<readonly [FileReporter, string]> = requested(req, [])) {
    this.reports = reports.map(([reporter, path]) => {
      try {
        const sink = new FileSink(path);
        return { name: reporter.name, path, sink, writer: reporter.open!(sink, req) };
      } catch (err) {
        return { name: reporter.name, path, error: writeError(reporter.name, path, err) };
      }
    });
  }

  private each(f: (w: ReportWriter) => void): void {
    for (const r of this.reports) {
      if (!r.writer) continue;
      try {
        f(r.writer);
      } catch (err) {
        this.fail(r, err);
      }
    }
  }

  private fail(r: Streamed, err: unknown): void {
    r.error = writeError(r.name, r.path, err);
    r.writer = undefined;
    try {
      r.sink?.abort();
    } catch {
      // the spool is gone already
    }
  }

  /**
   * A kernel crash's trace goes on growing after its test ended, until a KTAP line: from a test
   * with a crash on, tests wait here until a test or document starts (the parser read a KTAP
   * line after them), or the run ends.
   */
  private held: Array<() => void> | undefined;

  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const f of held) f();
  }

  private later(f: () => void, crash = false): void {
    if (!this.held && !crash) f();
    else {
      this.held ??= [];
      this.held.push(f);
    }
  }

  /**
   * The open document is indented: it may turn out to be a suite, its first tests then its
   * cases (runner/ktap/tree.ts insertImplicitDocument). Its tests are taken from its end.
   */
  private indented = false;

  private test(node: TestNode): void {
    this.later(() => this.each((w) => w.test(node)), hasCrash(node));
  }

  onEvent(e: KtapEvent): void {
    if (this.held && (e.type === 'test-start' || e.type === 'document-start')) this.release();
    if (e.type === 'test-end') {
      if (e.path.length === 1 && !this.indented) this.test(e.test);
    } else if (e.type === 'document-start') {
      this.indented = (e.indent ?? 0) > 0;
      this.each((w) => w.startDocument(e.document, undefined));
    } else if (e.type === 'document-end') {
      if (this.indented) e.document.tests.forEach((t) => this.test(t));
      this.indented = false;
      this.later(() => this.each((w) => w.endDocument(e.document)));
    }
  }

  /** The log could not be read: remove every spool (no report is written, as without streaming). */
  abort(): void {
    for (const r of this.reports) r.sink?.abort();
  }

  /** Finish every report with the finished run: how each ended, in order. */
  settle(result: RunResult): StreamOutcome[] {
    this.release();
    return this.reports.map((r) => {
      if (r.writer && r.sink) {
        try {
          r.sink.commit(r.writer.finish(result));
        } catch (err) {
          r.error = writeError(r.name, r.path, err);
        }
      }
      return r.error ? { path: r.path, error: r.error } : { path: r.path };
    });
  }

  /** Finish every report with the finished run; the paths written, or the first failure (E_REPORT_WRITE) once all are done. */
  finish(result: RunResult): string[] {
    return written(this.settle(result));
  }
}

/** The paths written, or the first failure of {@link StreamOutcome}s. */
export function written(outcomes: readonly StreamOutcome[]): string[] {
  const failure = outcomes.find((o) => o.error)?.error;
  if (failure) throw failure;
  return outcomes.map((o) => o.path);
}
