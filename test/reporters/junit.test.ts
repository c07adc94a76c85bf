import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { junitReporter } from '../../reporters/junit.js';
import type { RunResult } from '../../runner/ktap/model.js';
import { emptyCounts } from '../../runner/ktap/model.js';
import { JUNIT_SCHEMAS } from '../helpers/corpus.js';
import { validate, xpath } from '../helpers/xmllint.js';
import { WEIRD_NAME_CLEAN, leafCounts, node, repeatedResult, sampleResult } from '../helpers/sample-result.js';

const SCHEMAS = JUNIT_SCHEMAS;
const dir = mkdtempSync(join(tmpdir(), 'kunit-bridge-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function writeXml(xml: string): string {
  const file = join(dir, `report-${++fileNo}.xml`);
  writeFileSync(file, xml);
  return file;
}

describe('junitReporter', () => {
  const result = sampleResult();
  const xml = junitReporter.render(result);
  const file = writeXml(xml);
  const suite = (name: string): string => `//testsuite[@name="${name}"]`;
  const tc = (s: string, name: string): string => `${suite(s)}/testcase[@name="${name}"]`;

  it('is named junit', () => {
    expect(junitReporter.name).toBe('junit');
  });

  it.each(SCHEMAS)('validates against %s', (schema) => {
    const r = validate(file, schema);
    expect(r.ok, r.output).toBe(true);
  });

  it('contains no control characters or escape sequences', () => {
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/);
    expect(xml).not.toContain('[31m');
    expect(xml).not.toContain('[0m');
  });

  it('writes one flat testsuite per suite path, unique across documents', () => {
    const names = [
      'example',
      'example.example_params_test',
      'crashy',
      'troubled',
      'example #2',
      'rust_doctests_kernel',
      'early_crash',
      'nothing_here',
    ];
    expect(xpath(file, 'count(//testsuite)')).toBe(String(names.length));
    expect(xpath(file, 'count(//testsuite/testsuite)')).toBe('0');
    names.forEach((name, i) => {
      expect(xpath(file, `string(//testsuite[${i + 1}]/@name)`)).toBe(name);
    });
    expect(xpath(file, `string(${tc('example.example_params_test', 'example value 3')}/@classname)`)).toBe('example.example_params_test');
    expect(xpath(file, `string(${tc('example #2', 'example_simple_test')}/@classname)`)).toBe('example #2');
  });

  it('has one testcase per model leaf', () => {
    expect(xpath(file, 'count(//testcase)')).toBe(String(leafCounts(result).total));
    expect(xpath(file, 'string(/testsuites/@tests)')).toBe(String(leafCounts(result).total));
  });

  it('reports a failure with the assertion line as message and the log as body', () => {
    const f = `${tc('example', 'example_fail_test')}/failure`;
    expect(xpath(file, `string(${f}/@message)`)).toBe('example_fail_test: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:42');
    const body = xpath(file, `string(${f})`);
    expect(body).toContain('Expected 1 + 1 == 3, but');
    expect(body).toContain('bad ]]> twice ]]> <tag> & "q"');
    // The log is the failure's body, and only that: not again in <system-out>.
    expect(xpath(file, `count(${tc('example', 'example_fail_test')}/system-out)`)).toBe('0');
  });

  it('maps skip, todo, xfail and not-run', () => {
    expect(xpath(file, `string(${tc('example', 'example_skip_test')}/skipped)`)).toBe('this test should be skipped');
    expect(xpath(file, `string(${tc('example', 'example_todo_test')}/skipped)`)).toBe('TODO: not written yet # see bug \\42');
    const xfail = tc('example', 'example_xfail_test');
    expect(xpath(file, `count(${xfail}/*[self::skipped or self::failure or self::error])`)).toBe('0');
    expect(xpath(file, `string(${xfail}/system-out)`)).toBe('XFAIL: known bug #123');
    expect(xpath(file, `string(${tc('crashy', 'crashy_after')}/skipped)`)).toBe('not run: the run ended before this test');
  });

  it('reports crashes, timeouts, errors and incomplete tests as errors', () => {
    const boom = `${tc('crashy', 'crashy_boom')}/error`;
    expect(xpath(file, `string(${boom}/@message)`)).toBe('Kernel panic - not syncing: Fatal exception');
    expect(xpath(file, `string(${boom}/@type)`)).toBe('crashed');
    const body = xpath(file, `string(${boom})`);
    expect(body).toContain('about to dereference NULL');
    expect(body).toContain('RIP: 0010:crashy_boom+0x12/0x30');
    expect(body).toContain(' <TASK>');
    expect(xpath(file, `string(${tc('troubled', 'slow_test')}/error/@message)`)).toBe('timed out: exceeded 300 seconds');
    expect(xpath(file, `string(${tc('troubled', 'err_test')}/error/@message)`)).toBe('could not allocate #2');
    expect(xpath(file, `string(${tc('troubled', 'cut_test')}/error/@message)`)).toBe('no result: output ended before this test finished');
  });

  it('keeps a suite that crashed before any case visible, and an empty suite empty', () => {
    const early = `${tc('early_crash', 'early_crash')}/error`;
    expect(xpath(file, `string(${early}/@message)`)).toBe('Oops: general protection fault');
    expect(xpath(file, `string(${suite('early_crash')}/@errors)`)).toBe('1');
    expect(xpath(file, `string(${suite('nothing_here')}/@tests)`)).toBe('0');
  });

  it('writes a time on every element, 0 when unknown (consumers compute NaN without one)', () => {
    expect(xpath(file, `string(${suite('example')}/@time)`)).toBe('0.057');
    expect(xpath(file, `string(${tc('example', 'example_simple_test')}/@time)`)).toBe('0.002');
    expect(xpath(file, `string(${tc('crashy', 'crashy_ok')}/@time)`)).toBe('0');
    expect(xpath(file, `string(${tc('example', 'example_skip_test')}/@time)`)).toBe('0');
    expect(xpath(file, `string(${suite('example.example_params_test')}/@time)`)).toBe('0.003');
    expect(xpath(file, 'count(//testsuite[not(@time)] | //testcase[not(@time)])')).toBe('0');
    const sum = Number(xpath(file, 'sum(//testsuite/@time)').trim());
    expect(Number(xpath(file, 'string(/testsuites/@time)'))).toBeCloseTo(sum, 3);
  });

  it('puts run metadata, counts and verdict once, on the first testsuite; each suite keeps what differs', () => {
    expect(xpath(file, 'count(/testsuites/properties)')).toBe('0');
    expect(xpath(file, 'count(//testsuite[not(properties)])')).toBe('0');
    const prop = (s: string, name: string): string => xpath(file, `string(${suite(s)}/properties/property[@name="${name}"]/@value)`);
    expect(prop('example', 'arch')).toBe('x86_64');
    expect(prop('example', 'kernel')).toBe('6.12.0 <&>');
    expect(prop('example', 'weirdkey')).toBe('vbold');
    expect(prop('example', 'kunit-bridge.verdict')).toBe('incomplete');
    expect(prop('example', 'kunit-bridge.count.crashed')).toBe(String(result.counts.crashed));
    expect(xpath(file, 'count(//property[@name="kunit-bridge.verdict"])')).toBe('1');
    expect(xpath(file, 'count(//property[@name="arch"])')).toBe('1');
    expect(prop('crashy', 'kunit-bridge.status')).toBe('crashed');
    expect(prop('example', 'ktap.module')).toBe('kunit_example_test');
    expect(prop('example #2', 'kunit-bridge.document')).toBe('1');
  });

  it('cleans names and logs but keeps XML specials', () => {
    // (XPath 1.0 literals cannot hold both quote kinds, so select the case by position.)
    expect(xpath(file, `string(${suite('example')}/testcase[last()]/@name)`)).toBe(WEIRD_NAME_CLEAN);
    expect(xpath(file, `string(${suite('example')}/testcase[last()]/system-out)`)).toBe('log with # hash \\ backslash  nul green');
  });

  it('leaves out file/line by default and adds them when asked (outside both schemas)', () => {
    expect(xml).not.toMatch(/<testcase[^>]* (file|line)=/);
    const located = writeXml(junitReporter.render(result, { junitLocations: true }));
    const doctest = tc('rust_doctests_kernel', 'rust_doctest_kernel_str_rs_3');
    expect(xpath(located, `string(${doctest}/@file)`)).toBe('rust/kernel/str.rs');
    expect(xpath(located, `string(${doctest}/@line)`)).toBe('123');
    expect(xpath(located, `string(${doctest}/failure/@message)`)).toBe(
      'rust_doctest_kernel_str_rs_3: ASSERTION FAILED at rust/kernel/str.rs:130',
    );
    for (const schema of SCHEMAS) expect(validate(located, schema).ok).toBe(false);
  });

  it('renders independently each time', () => {
    expect(junitReporter.render(result)).toBe(xml);
    expect(junitReporter.render(sampleResult(), { runName: 'other' })).toContain('<testsuites name="other"');
  });

  it("shows a crash outside any test and a log without KTAP as errors; the kernel's normal end is no error", () => {
    const crashOnly: RunResult = {
      documents: [],
      diagnostics: [],
      counts: emptyCounts(),
      verdict: 'no-ktap',
      lines: 10,
      metadata: {},
      crash: { reason: 'Oops: general protection fault', kind: 'oops', trace: ['Oops: general protection fault', 'Call Trace:'], line: 7 },
    };
    const f = writeXml(junitReporter.render(crashOnly));
    for (const schema of SCHEMAS) expect(validate(f, schema).ok).toBe(true);
    expect(xpath(f, 'string(//testsuite/@name)')).toBe('kunit-bridge');
    expect(xpath(f, 'count(//testcase/error)')).toBe('1');
    expect(xpath(f, 'string(//testcase[1]/error/@message)')).toBe('Oops: general protection fault');

    const end = {
      reason: 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)',
      kind: 'panic' as const,
      trace: [],
      line: 7,
    };
    const g = writeXml(junitReporter.render({ ...crashOnly, crash: end }));
    expect(xpath(g, 'count(//testcase/error)')).toBe('1');
    expect(xpath(g, 'string(//testcase[1]/error/@message)')).toBe('no KTAP output found: did any KUnit tests run?');
    expect(xpath(g, 'string(//testcase[1]/error)')).toBe('no KTAP output found: did any KUnit tests run?');
    expect(xpath(g, 'string(//property[@name="kunit-bridge.kernel-end"]/@value)')).toBe(end.reason);
  });

  it('shows a suite that failed on its own although all its cases passed', () => {
    const r = sampleResult();
    r.documents = [
      {
        index: 0,
        tests: [
          node('exit_fails', 'fail', {
            log: ['exit_fails: EXPECTATION FAILED at suite_exit'],
            children: [node('ok_case', 'pass')],
          }),
        ],
        log: [],
        complete: true,
        startLine: 1,
        endLine: 5,
        attributes: {},
      },
    ];
    const f = writeXml(junitReporter.render(r));
    for (const schema of SCHEMAS) expect(validate(f, schema).ok).toBe(true);
    expect(xpath(f, 'string(//testcase[@name="exit_fails"]/failure/@message)')).toBe('exit_fails: EXPECTATION FAILED at suite_exit');
  });
});

describe('junitReporter with attempts (run --repeat)', () => {
  it('marks a flaky failure and lists the attempts in system-out', () => {
    const result = repeatedResult();
    const f = writeXml(junitReporter.render(result));
    for (const schema of SCHEMAS) expect(validate(f, schema).ok).toBe(true);
    expect(xpath(f, 'string(//testcase[@name="sometimes"]/failure/@message)')).toBe('flaky: sometimes: EXPECTATION FAILED at x.c:1');
    expect(xpath(f, 'string(//testcase[@name="sometimes"]/system-out)')).toContain('attempts: 1 pass, 2 fail, 3 pass (flaky)');
    expect(xpath(f, 'string(//testcase[@name="steady"]/system-out)')).toContain('attempts: 1 skip, 2 not re-run');
  });
});
