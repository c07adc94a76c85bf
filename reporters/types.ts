/**
 * The one small interface every file reporter implements. Reporters see only
 * the model (runner/ktap/model.ts), never the parser or a transport; each
 * returns the whole file as a string and the caller writes it atomically.
 * The big ones can also be streamed ({@link FileReporter.open}): written test
 * by test into a {@link ReportSink} as the run goes, then completed once the
 * run is finished (docs/reports.md#streamed-reports).
 */
import type { DocumentOrigin, KtapDocument, RunGroup, RunResult, TestNode } from '../runner/ktap/model.js';

/** Options shared by reporters; each reporter reads the ones it knows. */
export interface ReportOptions {
  /** JUnit: add `file`/`line` attributes from Rust doctest `.location` lines (opt-in; default false). */
  junitLocations?: boolean;
  /** Name of the whole run (JUnit `<testsuites name>`); default `kunit-bridge`. */
  runName?: string;
  /** KCIDB: the submitter's origin (`^[a-z0-9_]+$`); default `kunit_bridge`. */
  kcidbOrigin?: string;
  /** KCIDB: refer to this checkout (submitted by the CI) instead of writing one. */
  kcidbCheckoutId?: string;
  /** KCIDB: refer to this build (submitted by the CI) instead of writing one. */
  kcidbBuildId?: string;
}

export interface FileReporter {
  /** CLI name, e.g. `junit` for `--junit FILE`. */
  readonly name: string;
  /** One-line description for `--help`. */
  readonly description: string;
  render(result: RunResult, options?: ReportOptions): string;
  /** Stream the report (absent: the reporter needs the whole tree at once). `groups`: a merge's, known up front. */
  open?(sink: ReportSink, options: ReportOptions, groups?: readonly RunGroup[]): ReportWriter;
}

/** Where a streamed report goes: an append-only body, with texts put in at marked places at the end. */
export interface ReportSink {
  write(text: string): void;
  /** The place the next write goes: an {@link Insertion}'s `at`. */
  mark(): number;
}

/** A text that goes in at a marked place of the body once the run is finished (a header, a count). */
export interface Insertion {
  at: number;
  text: string;
}

/**
 * A report written as the run goes: each top-level test once it is finished,
 * in order, between its document's start and end; then the finished run.
 */
export interface ReportWriter {
  startDocument(index: number, origin: DocumentOrigin | undefined): void;
  test(node: TestNode): void;
  /** `doc.tests` is not read (the tests came one by one). */
  endDocument(doc: KtapDocument): void;
  /**
   * The finished run (its documents' tests may be empty): writes the end and
   * returns the insertions, in the order of their `at`.
   */
  finish(result: RunResult): Insertion[];
}
