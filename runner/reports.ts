/** Writing the file reports a command was asked for. */
import { FILE_REPORTERS, reporterByName } from '../reporters/index.js';
import type { ReportOptions } from '../reporters/types.js';
import type { RunResult } from './ktap/model.js';
import { writeFileAtomic } from './write-file.js';
import { BridgeError, describeFsError } from './errors.js';

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

/** The request fields that hold a report's path, one per file reporter. */
export const REPORT_PATH_FIELDS = ['junit', 'tap', 'json', 'kunitJson', 'markdown', 'kcidb'] as const;
export type ReportPathField = (typeof REPORT_PATH_FIELDS)[number];

/** The request field of a reporter's CLI name (`kunit-json` → `kunitJson`), as commander names the option. */
export function reportField(name: string): ReportPathField {
  const field = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (!(REPORT_PATH_FIELDS as readonly string[]).includes(field)) throw new Error(`reporter ${name} has no field in ReportRequest`);
  return field as ReportPathField;
}

/**
 * Render and write every requested report, after the `always` ones (`[reporter, path]`: run's
 * results.json); returns the paths written. One that cannot be written does not stop the others:
 * the first failure is thrown (E_REPORT_WRITE, exit 2) once all have been tried.
 */
export function writeReports(result: RunResult, req: ReportRequest, always: ReadonlyArray<readonly [string, string]> = []): string[] {
  const written: string[] = [];
  let failure: BridgeError | undefined;
  const requested = FILE_REPORTERS.map((r) => [r.name, req[reportField(r.name)]] as const);
  for (const [name, path] of [...always, ...requested]) {
    if (typeof path !== 'string' || path === '') continue;
    const reporter = reporterByName(name)!;
    try {
      writeFileAtomic(path, reporter.render(result, req));
      written.push(path);
    } catch (err) {
      // Keep going: every other report is still written.
      failure ??= new BridgeError('E_REPORT_WRITE', `cannot write the ${name} report to ${path}: ${describeFsError(err)}`, { cause: err });
    }
  }
  if (failure) throw failure;
  return written;
}
