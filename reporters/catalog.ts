/**
 * The file reporters' CLI names and `--help` lines, with no imports: the command line builds its
 * report options from this list without loading the reporters (they load when a report is written).
 * Each reporter takes its name and description from here (`catalogEntry`); reporters/index.ts holds
 * the reporters themselves, in the same order (a test checks they agree).
 */

export interface ReporterEntry {
  /** CLI name, e.g. `junit` for `--junit FILE`. */
  readonly name: string;
  /** One-line description for `--help`. */
  readonly description: string;
}

export const REPORTER_CATALOG: readonly ReporterEntry[] = [
  { name: 'junit', description: 'JUnit XML, one <testsuite> per KUnit suite (Jenkins, GitLab, GitHub)' },
  { name: 'tap', description: 'TAP 14 with nested subtests (one stream for all KTAP documents)' },
  { name: 'json', description: 'kunit-bridge native JSON: the full tree (docs/json-format.md)' },
  { name: 'kunit-json', description: 'the JSON of `kunit.py parse --json` (KernelCI test groups)' },
  { name: 'markdown', description: 'a short Markdown summary for $GITHUB_STEP_SUMMARY and merge-request comments' },
  { name: 'kcidb', description: 'KCIDB v5.3 JSON for kcidb-submit (KernelCI)' },
];

/** A reporter's catalog entry, by CLI name: the reporters spread it into their definition. */
export function catalogEntry(name: string): ReporterEntry {
  const entry = REPORTER_CATALOG.find((e) => e.name === name);
  if (!entry) throw new Error(`reporter ${name} is not in the catalog`);
  return entry;
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
