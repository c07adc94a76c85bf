/**
 * kunit-bridge as a library (`import … from 'kunit-bridge'`): the pure KTAP
 * core, the status rules and the file reporters. The command line is a shell
 * around the same functions.
 *
 * ```ts
 * import { parseLog, reporterByName } from 'kunit-bridge';
 * const result = parseLog(consoleLogText);
 * console.log(result.verdict, result.counts);
 * const junit = reporterByName('junit')!.render(result, {});
 * ```
 */
export * from './ktap/index.js';
export * from './ktap/status.js';
export { exitCodeFor, ExitCode } from './exit-codes.js';
export { BridgeError, type ErrorLayer } from './errors.js';
export {
  FILE_REPORTERS,
  reporterByName,
  ConsoleView,
  shouldColor,
  summarize,
  type FileReporter,
  type ReportOptions,
} from '../reporters/index.js';
