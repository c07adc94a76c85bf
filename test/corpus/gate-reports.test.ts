/**
 * What the gate looks like in every report, over the fixtures' real boot
 * logs: JUnit (known failures skipped, log kept, valid against both schemas),
 * TAP (`# TODO known:`, read back by tap-parser as todo, not failure), the
 * native JSON's `gate` section, the console's lines, and the Markdown goldens.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { gateLines } from '../../reporters/gate-summary.js';
import { jsonReporter } from '../../reporters/json.js';
import { junitReporter } from '../../reporters/junit.js';
import { markdownReporter, code } from '../../reporters/markdown.js';
import { tapReporter } from '../../reporters/tap.js';
import { applyGate } from '../../runner/gate/gate.js';
import { parseKnownFile } from '../../runner/gate/known.js';
import { parseResultsJson } from '../../runner/gate/results-file.js';
import { parseLog } from '../../runner/ktap/index.js';
import type { RunResult } from '../../runner/ktap/model.js';
import { GOLDEN, JUNIT_SCHEMAS, kernelFixture } from '../helpers/corpus.js';
import { expectGolden } from '../helpers/golden.js';
import { repeatedResult, sampleResult } from '../helpers/sample-result.js';
import { parseTap } from '../helpers/tap.js';
import { validate, xpath } from '../helpers/xmllint.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'kunit-bridge-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const log = (kernel: string, file: string): RunResult => {
  const r = parseLog(readFileSync(kernelFixture(kernel, file)));
  r.metadata['arch'] = 'x86_64';
  return r;
};
const KNOWN = parseKnownFile(
  [
    '- test: rust_kunit_fixture.rust_fixture_fail',
    '  status: failed',
    '  arch: [x86_64]',
    '  reason: fails on purpose in the fixture',
    '  bug: https://bugs.example.org/1234',
    '  until: 2027-06-30',
    '- test: example.example_simple_test',
    '  reason: was flaky once',
    '- test: kunit_fault.*',
    '  until: 2026-01-31',
  ].join('\n'),
  'known.yaml',
);

function knownRun(): RunResult {
  const r = log('x86_64-rust-kunit', 'boot.log');
  applyGate(r, { known: KNOWN, knownFile: 'known.yaml', now: NOW });
  return r;
}

describe('known failures in the reports', () => {
  test('JUnit: skipped with "known failure: reason bug", the log in system-out, no failure left, valid', () => {
    const file = join(dir, 'known.xml');
    writeFileSync(file, junitReporter.render(knownRun()));
    for (const schema of JUNIT_SCHEMAS) expect(validate(file, schema).ok).toBe(true);
    const tc = '//testcase[@name="rust_fixture_fail"]';
    expect(xpath(file, `string(${tc}/skipped)`)).toBe('known failure: fails on purpose in the fixture https://bugs.example.org/1234');
    expect(xpath(file, `string(${tc}/system-out)`)).toContain('ASSERTION FAILED at samples/rust/rust_kunit_fixture.rs:68');
    expect(
      xpath(file, 'count(//testsuite[@name="rust_kunit_fixture"]//failure) + count(//testsuite[@name="rust_kunit_fixture"]//error)'),
    ).toBe('0');
    expect(xpath(file, 'string(//testsuite[@name="rust_kunit_fixture"]/@failures)')).toBe('0');
    expect(xpath(file, 'string(//property[@name="kunit-bridge.verdict"]/@value)')).toBe('passed');
    expect(xpath(file, 'string(//property[@name="kunit-bridge.gate.known"]/@value)')).toBe('1');
  });

  test('TAP: # TODO known: …, which tap-parser counts as todo, and the run as ok', async () => {
    const tap = tapReporter.render(knownRun());
    expect(tap).toContain('not ok 3 - rust_fixture_fail # TODO known: fails on purpose in the fixture https://bugs.example.org/1234');
    expect(tap).toContain('not ok 16 - rust_kunit_fixture # TODO known: fails on purpose in the fixture https://bugs.example.org/1234');
    const parsed = await parseTap(tap);
    expect(parsed.top.ok).toBe(true);
    expect(parsed.finals.every((f) => f.final.ok)).toBe(true);
    expect(parsed.asserts.filter((a) => a.result.todo).map((a) => a.result.name)).toEqual(['rust_fixture_fail', 'rust_kunit_fixture']);
  });

  test("native JSON: the gate section and the mark on the test; read back, the tests' own verdict and no marks", () => {
    const json = jsonReporter.render(knownRun());
    const j = JSON.parse(json) as { verdict: string; gate: Record<string, unknown> };
    expect(j.verdict).toBe('passed');
    expect(j.gate).toMatchObject({
      testVerdict: 'failed',
      verdict: 'passed',
      knownFile: 'known.yaml',
      strictKnown: false,
      arch: 'x86_64',
      known: [{ path: 'rust_kunit_fixture.rust_fixture_fail', status: 'fail' }],
      stale: [
        {
          entry: 'known.yaml:7',
          test: 'example.example_simple_test',
          why: 'matching tests did not fail: example.example_simple_test pass',
        },
      ],
      expired: [{ entry: 'known.yaml:9', test: 'kunit_fault.*', until: '2026-01-31', tests: [] }],
      failing: [],
      incomplete: [],
    });
    expect(json).toContain('"known": {\n');
    const back = parseResultsJson(json, 'r.json');
    expect(back.verdict).toBe('failed');
    expect(JSON.stringify(back.documents)).not.toContain('"known"');
    expect(back.gate).toBeUndefined();
  });

  test('a known crash: JUnit skipped (no <error>), the trace in system-out, valid; TAP todo', async () => {
    const r = log('x86_64-rust-kunit-v2', 'boot-oops-panic-filtered.log');
    applyGate(r, {
      known: parseKnownFile('- test: kunit_bridge_fixture.oops_test\n  status: crashed\n  reason: oops on purpose\n', 'k.yaml'),
      now: NOW,
    });
    expect(r.gate!.known.map((k) => [k.path, k.status])).toEqual([['kunit_bridge_fixture.oops_test', 'crashed']]);
    const file = join(dir, 'crash.xml');
    writeFileSync(file, junitReporter.render(r));
    for (const schema of JUNIT_SCHEMAS) expect(validate(file, schema).ok).toBe(true);
    const tc = '//testcase[@name="oops_test"]';
    expect(xpath(file, `string(${tc}/skipped)`)).toBe('known failure: oops on purpose');
    expect(xpath(file, `count(${tc}/error)`)).toBe('0');
    expect(xpath(file, `string(${tc}/system-out)`)).toContain('kernel crash: BUG: kernel NULL pointer dereference');
    const parsed = await parseTap(tapReporter.render(r));
    expect(parsed.asserts.find((a) => a.result.name === 'oops_test')?.result.todo).toBe('known: oops on purpose');
  });

  test('console lines', () => {
    expect(gateLines(knownRun().gate!)).toEqual([
      'Known failures (do not fail the run) (1): rust_kunit_fixture.rust_fixture_fail (fail: fails on purpose in the fixture https://bugs.example.org/1234)',
      'Stale known entries (1): known.yaml:7 "example.example_simple_test" (matching tests did not fail: example.example_simple_test pass)',
      'Expired known entries (no longer apply) (1): known.yaml:9 "kunit_fault.*" until 2026-01-31',
      'Gate: passed (1 known failure); the tests alone: failed',
    ]);
  });
});

describe('Markdown goldens', () => {
  const base = log('x86_64-rust-kunit-v2', 'boot.log');
  const cases: Array<[string, () => RunResult]> = [
    ['known', knownRun],
    ['no-gate-sample', () => sampleResult()],
    ['no-gate-repeated', () => repeatedResult()],
    [
      'known-flaky',
      () => {
        const r = repeatedResult();
        applyGate(r, { known: parseKnownFile('- test: "*.sometimes"\n  status: flaky\n  bug: BUG-7\n', 'known.yaml'), now: NOW });
        return r;
      },
    ],
    [
      'baseline-oops',
      () => {
        const r = log('x86_64-rust-kunit-v2', 'boot-oops.log');
        applyGate(r, { baseline: base, now: NOW });
        return r;
      },
    ],
    [
      'baseline-fixed',
      () => {
        const r = log('x86_64-rust-kunit-v2', 'boot.log');
        applyGate(r, { baseline: log('x86_64-rust-kunit-v2', 'boot-oops.log'), now: NOW });
        return r;
      },
    ],
    [
      'baseline-panic',
      () => {
        const r = log('x86_64-rust-kunit-v2', 'boot-oops-panic.log');
        applyGate(r, { baseline: base, known: KNOWN, now: NOW, strictKnown: true });
        return r;
      },
    ],
  ];
  test.each(cases)('%s', (name, make) => {
    expectGolden(join(GOLDEN, 'markdown', `${name}.md`), markdownReporter.render(make()));
  });

  test("counts per architecture of a merge's groups", () => {
    const a = log('x86_64-rust-kunit', 'boot.log');
    const b = log('x86_64-rust-kunit', 'boot.log');
    const merged = {
      ...a,
      documents: [...a.documents, ...b.documents.map((d) => ({ ...d, origin: { kind: 'boot' as const, group: 1 } }))],
      groups: [{ arch: 'x86_64' }, { arch: 'arm64' }],
    } as RunResult;
    merged.documents[0] = { ...merged.documents[0]!, origin: { kind: 'boot', group: 0 } } as RunResult['documents'][number];
    const md = markdownReporter.render(merged);
    expect(md).toContain('| x86\\_64 | 192 | 186 | 1 |');
    expect(md).toContain('| arm64 | 192 | 186 | 1 |');
  });

  test('inline code survives backticks and spaces', () => {
    expect(code('a.b')).toBe('`a.b`');
    expect(code('a`b')).toBe('`` a`b ``');
    expect(code('`x')).toBe('`` `x ``');
  });
});
