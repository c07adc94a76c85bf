import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { failureLocation, githubAnnotations } from '../../../runner/gate/annotations.js';
import { applyGate } from '../../../runner/gate/gate.js';
import { parseKnownFile } from '../../../runner/gate/known.js';
import { parseLog } from '../../../runner/ktap/index.js';
import { kernelFixture } from '../../helpers/corpus.js';
import { leaf, result } from './results.js';

describe('GitHub annotations', () => {
  test("C and Rust KUnit assertions, a Rust doctest location, an Oops's last line seen", () => {
    expect(
      failureLocation(leaf('t', 'fail', { log: ['t: EXPECTATION FAILED at lib/kunit/kunit-example-test.c:29', 'Expected 1 == 2'] })),
    ).toEqual({ file: 'lib/kunit/kunit-example-test.c', line: 29 });
    expect(failureLocation(leaf('t', 'fail', { location: { file: 'rust/kernel/alloc/kbox.rs', line: 147 } }))).toEqual({
      file: 'rust/kernel/alloc/kbox.rs',
      line: 147,
    });
    expect(
      failureLocation(
        leaf('t', 'fail', { log: ['oops_test: try faulted: last line seen samples/kunit_bridge/kunit_bridge_fixture.c:54'] }),
      ),
    ).toEqual({ file: 'samples/kunit_bridge/kunit_bridge_fixture.c', line: 54 });
    expect(failureLocation(leaf('t', 'fail', { log: ['no location here'] }))).toBeUndefined();
  });

  test("the fixture's Rust failure, escaped as workflow commands want", () => {
    const r = parseLog(readFileSync(kernelFixture('x86_64-rust-kunit', 'boot.log')));
    expect(githubAnnotations(r)).toEqual([
      '::error file=samples/rust/rust_kunit_fixture.rs,line=68,title=KUnit fail%3A rust_kunit_fixture.rust_fixture_fail::' +
        'rust_fixture_fail: ASSERTION FAILED at samples/rust/rust_kunit_fixture.rs:68%0AExpected answer == 43 to be true, but is false',
    ]);
  });

  test('known failures are not annotated; with a baseline only what fails the gate', () => {
    const r = parseLog(readFileSync(kernelFixture('x86_64-rust-kunit', 'boot.log')));
    applyGate(r, { known: parseKnownFile('- test: rust_kunit_fixture.*\n', 'k.yaml') });
    expect(githubAnnotations(r)).toEqual([]);
    const base = parseLog(readFileSync(kernelFixture('x86_64-rust-kunit-v2', 'boot.log')));
    const oops = parseLog(readFileSync(kernelFixture('x86_64-rust-kunit-v2', 'boot-oops.log')));
    applyGate(oops, { baseline: base });
    const lines = githubAnnotations(oops);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^::error file=samples\/kunit_bridge\/kunit_bridge_fixture\.c,line=54,title=KUnit fail%3A kunit_bridge_fixture\.oops_test::/,
    );
  });

  test('at most 50, then one line for the rest; % , : and newlines escaped', () => {
    const tests: Record<string, ReturnType<typeof leaf>> = {};
    for (let i = 0; i < 60; i++) tests[`s.t${i}`] = leaf('', 'fail', { log: [`t${i}: EXPECTATION FAILED at a,b:c%.c:${i + 1}`] });
    tests['s.nowhere'] = leaf('', 'fail', { log: ['no location'] });
    const lines = githubAnnotations(result(tests));
    expect(lines).toHaveLength(52);
    expect(lines[0]).toBe('::error file=a%2Cb%3Ac%25.c,line=1,title=KUnit fail%3A s.t0::t0: EXPECTATION FAILED at a,b:c%25.c:1');
    expect(lines[50]).toBe('::warning::10 more failing tests with a source location not annotated (at most 50); all are in the reports');
    expect(lines[51]).toBe('::notice::1 failing test without a source location (see the reports)');
  });
});
