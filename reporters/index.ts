/** The registry of file reporters; it also feeds the CLI's report options. */
import { junitReporter } from './junit.js';
import { jsonReporter } from './json.js';
import { kunitJsonReporter } from './kunit-json.js';
import { markdownReporter } from './markdown.js';
import { tapReporter } from './tap.js';
import { kcidbReporter } from './kcidb.js';
import type { FileReporter } from './types.js';

export type { FileReporter, ReportOptions } from './types.js';
export { ConsoleView, shouldColor, summarize } from './console.js';

/** Every file reporter, by CLI name (`--junit`, `--tap`, `--json`, `--kunit-json`, `--markdown`, `--kcidb`). */
export const FILE_REPORTERS: readonly FileReporter[] = [
  junitReporter,
  tapReporter,
  jsonReporter,
  kunitJsonReporter,
  markdownReporter,
  kcidbReporter,
];

export function reporterByName(name: string): FileReporter | undefined {
  return FILE_REPORTERS.find((r) => r.name === name);
}
