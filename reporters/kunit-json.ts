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
import { MemorySink, renderStreamed } from './stream.js';
import type { FileReporter, Insertion, ReportSink, ReportWriter } from './types.js';
import { catalogEntry } from './catalog.js';

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

/** Python's `json.dumps(obj, indent=4)` (ensure_ascii on); `ascii`: the caller knows every string in `value` is ASCII. */
export function pythonJson(value: unknown, ascii = false): string {
  const json = JSON.stringify(value, null, 4);
  return ascii ? json : json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One string as `json.dumps` writes it. */
const str = (s: string): string => (NON_ASCII.test(s) ? pythonJson(s) : JSON.stringify(s));

/** The run's fields of a group, by their key, and where each comes from in the metadata. */
const META = [
  ['arch', 'arch'],
  ['defconfig', 'defconfig'],
  ['build_environment', 'build_dir'],
] as const;
/** The fields after them, the same in every group. */
const TAIL = ['"lab_name": null', '"kernel": null', '"job": null', '"git_branch": "kselftest"'];

/**
 * Writes groups `{name, sub_groups, test_cases, arch, defconfig, build_environment,
 * lab_name, kernel, job, git_branch}` exactly as `json.dumps(indent=4)` does, a test case
 * at a time (no big string for a big suite). The run's metadata is known only at the end:
 * `meta` gives its text, or `undefined` to leave a mark where it goes in.
 */
class GroupWriter {
  readonly late: Insertion[] = [];

  constructor(
    private readonly sink: ReportSink,
    private readonly meta: Record<(typeof META)[number][0], string> | undefined,
  ) {}

  group(name: string, tests: readonly TestNode[], pad: string): void {
    const sink = this.sink;
    const p = `${pad}    `;
    sink.write(`{\n${p}"name": ${str(name)},\n${p}"sub_groups": [`);
    let n = 0;
    for (const t of tests) {
      if (t.children.length === 0) continue;
      sink.write(`${n++ > 0 ? ',' : ''}\n${p}    `);
      this.group(t.name, t.children, `${p}    `);
    }
    sink.write(`${n > 0 ? `\n${p}` : ''}],\n${p}"test_cases": [`);
    n = 0;
    for (const t of tests) {
      if (t.children.length > 0) continue;
      sink.write(
        `${n++ > 0 ? ',' : ''}\n${p}    {\n${p}        "name": ${str(t.name)},\n${p}        "status": "${kunitStatus(t.status)}"\n${p}    }`,
      );
    }
    sink.write(`${n > 0 ? `\n${p}` : ''}],`);
    for (const [key] of META) {
      sink.write(`\n${p}"${key}": `);
      if (this.meta) sink.write(this.meta[key]);
      else this.late.push({ at: sink.mark(), text: key });
      sink.write(',');
    }
    sink.write(`\n${p}${TAIL.join(`,\n${p}`)}\n${pad}}`);
  }
}

/**
 * The same bytes as `pythonJson` of the whole run's groups, written suite by suite: the
 * top-level tests with children are the root's `sub_groups`, written as they come; the root's
 * `test_cases` (top-level tests without children) and the run's metadata in every group go in
 * once the run is finished.
 */
class KunitJsonWriter implements ReportWriter {
  private readonly leaves: TestNode[] = [];
  private readonly groups: GroupWriter;
  private count = 0;

  constructor(private readonly sink: ReportSink) {
    this.groups = new GroupWriter(sink, undefined);
  }

  startDocument(): void {}
  endDocument(): void {}

  test(node: TestNode): void {
    if (node.children.length === 0) {
      this.leaves.push({ name: node.name, status: node.status, children: [], log: [], attributes: {}, line: node.line });
      return;
    }
    this.sink.write(`${this.count++ > 0 ? ',' : ''}\n        `);
    this.groups.group(node.name, node.children, '        ');
  }

  finish(result: RunResult): Insertion[] {
    const meta = Object.fromEntries(META.map(([key, from]) => [key, str(result.metadata[from] ?? '')])) as Record<
      (typeof META)[number][0],
      string
    >;
    // The root without its sub-groups, which go in between its `[` and `]`.
    const root = new MemorySink();
    new GroupWriter(root, meta).group('KUnit Test Group', this.leaves, '');
    const text = root.text([]);
    const split = text.indexOf('[]') + 1;
    this.sink.write(`${this.count > 0 ? '\n    ' : ''}${text.slice(split)}`);
    return [
      { at: 0, text: text.slice(0, split) },
      ...this.groups.late.map(({ at, text }) => ({ at, text: meta[text as keyof typeof meta] })),
    ];
  }
}

export const kunitJsonReporter: FileReporter = {
  ...catalogEntry('kunit-json'),
  render: (result) => renderStreamed((sink) => new KunitJsonWriter(sink), result),
  open: (sink) => new KunitJsonWriter(sink),
};
