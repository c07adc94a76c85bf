/**
 * `--kunit-json`: the exact JSON that `kunit.py parse --json` writes (Linux
 * 6.12 `tools/testing/kunit/kunit_json.py`), so KernelCI tooling that reads
 * it keeps working: nested test groups `{name, sub_groups, test_cases, arch,
 * defconfig, build_environment, lab_name, kernel, job, git_branch}`, test
 * cases `{name, status}` with status PASS | FAIL | SKIP | ERROR, formatted
 * like Python's `json.dumps(indent=4)` (ASCII only, no final newline).
 *
 * Where we differ from kunit.py on purpose (several KTAP documents, tests
 * that never ran, names of crashed tests) is listed in docs/kunit-py-differences.md.
 */
import type { RunResult, TestNode, TestStatus } from '../runner/ktap/model.js';
import { renderStreamed } from './stream.js';
import type { FileReporter, Insertion, ReportSink, ReportWriter } from './types.js';

interface Group {
  name: string;
  sub_groups: Group[];
  test_cases: { name: string; status: string }[];
  arch: string;
  defconfig: string;
  build_environment: string;
  lab_name: null;
  kernel: null;
  job: null;
  git_branch: string;
}

/** kunit.py's status words (kunit_json.py `_status_map`; anything else is FAIL). */
export function kunitStatus(status: TestStatus): 'PASS' | 'FAIL' | 'SKIP' | 'ERROR' {
  switch (status) {
    case 'pass':
    case 'xfail':
      return 'PASS';
    case 'skip':
    case 'todo':
      return 'SKIP';
    case 'crashed':
    case 'incomplete':
    case 'not-run':
    case 'error':
      return 'ERROR';
    default:
      return 'FAIL';
  }
}

const NON_ASCII = /[\u007f-\uffff]/;

/** Whether any string put in the groups so far needs `\uXXXX` escaping. */
interface Escapes {
  needed: boolean;
}

function group(name: string, tests: readonly TestNode[], meta: RunResult['metadata'], esc: Escapes): Group {
  const g: Group = {
    name,
    sub_groups: [],
    test_cases: [],
    arch: meta['arch'] ?? '',
    defconfig: meta['defconfig'] ?? '',
    build_environment: meta['build_dir'] ?? '',
    lab_name: null,
    kernel: null,
    job: null,
    git_branch: 'kselftest',
  };
  if (!esc.needed) esc.needed = NON_ASCII.test(name);
  for (const t of tests) {
    if (t.children.length > 0) {
      g.sub_groups.push(group(t.name, t.children, meta, esc));
    } else {
      if (!esc.needed) esc.needed = NON_ASCII.test(t.name);
      g.test_cases.push({ name: t.name, status: kunitStatus(t.status) });
    }
  }
  return g;
}

/** Python's `json.dumps(obj, indent=4)` (ensure_ascii on); `ascii`: the caller knows every string in `value` is ASCII. */
export function pythonJson(value: unknown, ascii = false): string {
  const json = JSON.stringify(value, null, 4);
  return ascii ? json : json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The run's fields of every group, known once the run is finished: a placeholder while streaming. */
const META = { arch: 'arch', defconfig: 'defconfig', build_environment: 'build_dir' } as const;
type MetaField = keyof typeof META;
const LATE: RunResult['metadata'] = { arch: '\u0000', defconfig: '\u0000', build_dir: '\u0000' };
/**
 * A placeholder as JSON.stringify writes it. Inside a JSON string every `"` is escaped, so
 * `"arch": "` with bare quotes is always the field itself, never part of a test's name.
 */
const PLACEHOLDER = /"(arch|defconfig|build_environment)": "\\u0000"/;

/**
 * The same bytes as `pythonJson(group(...))` over the whole run, written suite by suite: the
 * top-level tests with children are the root's `sub_groups`, written as they come; the root's
 * other fields, and the run's metadata in every group, go in once the run is finished.
 */
class KunitJsonWriter implements ReportWriter {
  private readonly leaves: TestNode[] = [];
  private readonly late: Array<{ at: number; field: MetaField }> = [];
  private groups = 0;

  constructor(private readonly sink: ReportSink) {}

  startDocument(): void {}
  endDocument(): void {}

  test(node: TestNode): void {
    // Leaves are the root's `test_cases`, after every sub-group: kept (names and statuses) until the end.
    if (node.children.length === 0) {
      this.leaves.push({ name: node.name, status: node.status, children: [], log: [], attributes: {}, line: node.line });
      return;
    }
    const esc: Escapes = { needed: false };
    const g = group(node.name, node.children, LATE, esc);
    const json = pythonJson(g, !esc.needed).replaceAll('\n', '\n        ');
    // Every second part is the name of a field whose value goes in at the end.
    const parts = json.split(PLACEHOLDER);
    this.sink.write(`${this.groups++ > 0 ? ',\n' : ''}        `);
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 0) {
        this.sink.write(parts[i]!);
        continue;
      }
      const field = parts[i] as MetaField;
      this.sink.write(`"${field}": `);
      this.late.push({ at: this.sink.mark(), field });
    }
  }

  finish(result: RunResult): Insertion[] {
    const meta = result.metadata;
    const value: Record<MetaField, string> = {
      arch: pythonJson(meta['arch'] ?? ''),
      defconfig: pythonJson(meta['defconfig'] ?? ''),
      build_environment: pythonJson(meta['build_dir'] ?? ''),
    };
    const esc: Escapes = { needed: [meta['arch'], meta['defconfig'], meta['build_dir']].some((v) => v !== undefined && NON_ASCII.test(v)) };
    // The replace scans the whole text: skipped when every string put in is ASCII.
    const root = pythonJson(group('KUnit Test Group', this.leaves, meta, esc), !esc.needed);
    // The root with no sub-groups: they go in between its `[` and `]`.
    const split = root.indexOf('[]') + 1;
    this.sink.write(`${this.groups > 0 ? '\n    ' : ''}${root.slice(split)}`);
    return [
      { at: 0, text: `${root.slice(0, split)}${this.groups > 0 ? '\n' : ''}` },
      ...this.late.map(({ at, field }) => ({ at, text: value[field] })),
    ];
  }
}

export const kunitJsonReporter: FileReporter = {
  name: 'kunit-json',
  description: 'the JSON of `kunit.py parse --json` (KernelCI test groups)',
  render: (result) => renderStreamed((sink) => new KunitJsonWriter(sink), result),
  open: (sink) => new KunitJsonWriter(sink),
};
