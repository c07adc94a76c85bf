import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { kunitJsonReporter, kunitStatus, pythonJson } from '../../reporters/kunit-json.js';
import { parseLog, type TestStatus } from '../../runner/ktap/index.js';

describe('kunit-json', () => {
  test('formats like Python json.dumps(indent=4) with ensure_ascii', () => {
    const value = { name: 'caf\u00e9 \u2028 \u{1F600} "q" \\ \u0001 \u007f', list: [], nested: { empty: {} }, n: null };
    const ours = pythonJson(value);
    const python = execFileSync(
      'python3',
      ['-c', 'import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read()), indent=4))'],
      { input: JSON.stringify(value) },
    ).toString();
    expect(ours).toBe(python);
  });

  test.each<[TestStatus, string]>([
    ['pass', 'PASS'],
    ['xfail', 'PASS'],
    ['skip', 'SKIP'],
    ['todo', 'SKIP'],
    ['fail', 'FAIL'],
    ['timeout', 'FAIL'],
    ['crashed', 'ERROR'],
    ['incomplete', 'ERROR'],
    ['not-run', 'ERROR'],
    ['error', 'ERROR'],
    ['no-tests', 'FAIL'],
  ])('status %s is %s', (status, word) => {
    expect(kunitStatus(status)).toBe(word);
  });

  test('groups nest like kunit.py: cases with children become sub_groups', () => {
    const r = parseLog(
      ['KTAP version 1', '1..1', '  # Subtest: s', '  1..2', '    # Subtest: p', '    ok 1 p1', '  ok 1 p', '  ok 2 c', 'ok 1 s'].join(
        '\n',
      ),
    );
    const json = JSON.parse(kunitJsonReporter.render(r)) as {
      name: string;
      sub_groups: { name: string; sub_groups: { name: string }[]; test_cases: { name: string }[] }[];
    };
    expect(json.name).toBe('KUnit Test Group');
    expect(json.sub_groups[0]!.name).toBe('s');
    expect(json.sub_groups[0]!.sub_groups.map((g) => g.name)).toEqual(['p']);
    expect(json.sub_groups[0]!.test_cases.map((c) => c.name)).toEqual(['c']);
  });
});
