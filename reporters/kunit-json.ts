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
import type { FileReporter } from './types.js';

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

export const kunitJsonReporter: FileReporter = {
  name: 'kunit-json',
  description: 'the JSON of `kunit.py parse --json` (KernelCI test groups)',
  render(result: RunResult): string {
    const tests = result.documents.flatMap((d) => d.tests);
    const meta = result.metadata;
    const esc: Escapes = { needed: [meta['arch'], meta['defconfig'], meta['build_dir']].some((v) => v !== undefined && NON_ASCII.test(v)) };
    const groups = group('KUnit Test Group', tests, meta, esc);
    // The replace scans the whole output: skip it when every string put in is ASCII.
    return pythonJson(groups, !esc.needed);
  },
};
