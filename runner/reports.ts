/** Writing the file reports a command was asked for. */
import { reporterByName } from '../reporters/index.js';
import type { ReportOptions } from '../reporters/types.js';
import type { RunResult } from './ktap/model.js';
import { writeFileAtomic } from './write-file.js';
import { BridgeError } from './errors.js';
import { ExitCode } from './exit-codes.js';

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

const FIELDS: ReadonlyArray<readonly [keyof ReportRequest, string]> = [
  ['junit', 'junit'], ['tap', 'tap'], ['json', 'json'], ['kunitJson', 'kunit-json'], ['markdown', 'markdown'], ['kcidb', 'kcidb'],
];

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EEXIST':
    case 'ENOTDIR': return 'a parent of that path is a file, not a directory';
    case 'EACCES':
    case 'EPERM': return 'permission denied (choose a writable directory)';
    case 'EISDIR': return 'that path is a directory (give a file name)';
    case 'ENOSPC': return 'no space left on the device';
    case 'EROFS': return 'read-only file system (choose a writable directory)';
    default: return e.message;
  }
}

/** Render and write every requested report; returns the paths written. */
export function writeReports(result: RunResult, req: ReportRequest): string[] {
  const written: string[] = [];
  let failure: BridgeError | undefined;
  for (const [field, name] of FIELDS) {
    const path = req[field];
    if (typeof path !== 'string' || path === '') continue;
    const reporter = reporterByName(name)!;
    try {
      writeFileAtomic(path, reporter.render(result, req));
      written.push(path);
    } catch (err) {
      // Keep going: every other report is still written.
      failure ??= new BridgeError('E_REPORT_WRITE', 'reporter', ExitCode.USAGE,
        `cannot write the ${name} report to ${path}: ${describeFsError(err)}`,
        { cause: err });
    }
  }
  if (failure) throw failure;
  return written;
}
