/** Writing the file reports a command was asked for. */
import { FILE_REPORTERS, reporterByName } from '../reporters/index.js';
import type { ReportOptions } from '../reporters/types.js';
import type { RunResult } from './ktap/model.js';
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
