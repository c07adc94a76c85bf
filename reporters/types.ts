/**
 * The one small interface every file reporter implements. Reporters see only
 * the model (runner/ktap/model.ts), never the parser or a transport; each
 * returns the whole file as a string and the caller writes it atomically.
 */
import type { RunResult } from '../runner/ktap/model.js';

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
}
