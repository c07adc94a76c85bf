import { describe, expect, test } from 'vitest';
import { exitCodeFor } from '../../../runner/exit-codes.js';
import { applyGate } from '../../../runner/gate/gate.js';
import { parseKnownFile } from '../../../runner/gate/known.js';
import { leaf, result } from './results.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const known = (yaml: string) => parseKnownFile(yaml, 'known.yaml');

describe('known failures', () => {
  test('a known failure does not fail the run; it is marked on the test and its suite', () => {
    const r = result({ 's.ok': 'pass', 's.bad': 'fail' });
    const g = applyGate(r, { known: known('- test: s.bad\n  status: failed\n  reason: on purpose\n  bug: https://b/1\n'), now: NOW });
    expect(g.testVerdict).toBe('failed');
    expect(g.verdict).toBe('passed');
    expect(r.verdict).toBe('passed');
    expect(exitCodeFor(r.verdict)).toBe(0);
    expect(g.known).toEqual([
      {
        path: 's.bad',
        status: 'fail',
        known: { test: 's.bad', entry: 'known.yaml:1', status: 'failed', reason: 'on purpose', bug: 'https://b/1' },
      },
    ]);
    expect(r.documents[0]!.tests[0]!.children[1]!.known?.entry).toBe('known.yaml:1');
    expect(r.documents[0]!.tests[0]!.known?.entry).toBe('known.yaml:1'); // the suite is bad only through it
    expect(g.stale).toEqual([]);
    expect(r.gate).toBe(g);
  });

  test('without an entry the failure fails the run', () => {
    const r = result({ 's.bad': 'fail', 't.other': 'fail' });
    const g = applyGate(r, { known: known('- test: s.*\n'), now: NOW });
    expect(g.verdict).toBe('failed');
    expect(g.failing).toEqual([{ path: 't.other', status: 'fail' }]);
    expect(r.documents[0]!.tests[1]!.known).toBeUndefined();
  });

  test.each([
    ['failed', 'fail', true],
    ['failed', 'error', true],
    ['failed', 'timeout', false],
    ['failed', 'crashed', false],
    ['timeout', 'timeout', true],
    ['timeout', 'incomplete', true],
    ['timeout', 'fail', false],
    ['crashed', 'crashed', true],
    ['crashed', 'fail', false],
    ['any', 'fail', true],
    ['any', 'error', true],
    ['any', 'timeout', true],
    ['any', 'crashed', false],
    ['any', 'incomplete', false],
    ['flaky', 'fail', false],
  ] as const)('status %s covers a %s test: %s', (status, testStatus, covered) => {
    const r = result({ 's.t': testStatus, 's.ok': 'pass' });
    const g = applyGate(r, { known: known(`- test: s.t\n  status: ${status}\n`), now: NOW });
    expect(g.known.length).toBe(covered ? 1 : 0);
    expect(g.stale.length).toBe(covered ? 0 : 1);
  });

  test('a known crash is the only thing that makes a crashed run pass; anything else leaves it incomplete', () => {
    const crashed = () => result({ 's.boom': 'crashed', 's.ok': 'pass' });
    expect(applyGate(crashed(), { known: known('- test: s.boom\n'), now: NOW }).verdict).toBe('incomplete');
    expect(applyGate(crashed(), { known: known('- test: s.boom\n  status: failed\n'), now: NOW }).verdict).toBe('incomplete');
    expect(applyGate(crashed(), { known: known('- test: s.boom\n  status: crashed\n'), now: NOW }).verdict).toBe('passed');
    const notRun = result({ 's.boom': 'crashed', 't.never': 'not-run' });
    expect(applyGate(notRun, { known: known('- test: s.boom\n  status: crashed\n'), now: NOW }).verdict).toBe('incomplete');
  });

  test('a flaky test is known only to a flaky (or matching any) entry', () => {
    const flaky = () => result({ 's.f': leaf('', 'fail', { flaky: true }) });
    expect(applyGate(flaky(), { known: known('- test: s.f\n  status: flaky\n'), now: NOW }).verdict).toBe('passed');
    expect(applyGate(flaky(), { known: known('- test: s.f\n  status: any\n'), now: NOW }).verdict).toBe('passed');
    expect(applyGate(flaky(), { known: known('- test: s.f\n  status: crashed\n'), now: NOW }).verdict).toBe('failed');
  });

  test('an expired entry no longer applies: the test fails, a warning names the entry and its date', () => {
    const r = result({ 's.bad': 'fail' });
    const g = applyGate(r, { known: known('- test: s.bad\n  until: 2026-11-30\n'), now: NOW });
    expect(g.verdict).toBe('failed');
    expect(g.expired).toEqual([{ entry: 'known.yaml:1', test: 's.bad', until: '2026-11-30', tests: ['s.bad'] }]);
    expect(g.warnings).toEqual(['known.yaml:1: known entry "s.bad" expired on 2026-11-30: s.bad fails as usual']);
    expect(g.stale).toEqual([]);
    expect(applyGate(result({ 's.bad': 'fail' }), { known: known('- test: s.bad\n  until: 2026-12-01\n'), now: NOW }).verdict).toBe(
      'passed',
    );
  });

  test('stale entries are listed, and fail the run only with strictKnown', () => {
    const yaml = '- test: s.ok\n  reason: fixed long ago\n- test: gone.*\n- test: s.crashy\n  status: failed\n';
    const run = () => result({ 's.ok': 'pass', 's.crashy': 'timeout' });
    const g = applyGate(run(), { known: known(yaml), now: NOW });
    expect(g.stale).toEqual([
      { entry: 'known.yaml:1', test: 's.ok', reason: 'fixed long ago', why: 'matching tests did not fail: s.ok pass' },
      { entry: 'known.yaml:3', test: 'gone.*', why: 'no test matches' },
      { entry: 'known.yaml:4', test: 's.crashy', why: 'status failed does not cover: s.crashy timeout' },
    ]);
    expect(g.verdict).toBe('failed'); // s.crashy's timeout is not known
    const passing = () => result({ 's.ok': 'pass' });
    expect(applyGate(passing(), { known: known('- test: s.ok\n'), now: NOW }).verdict).toBe('passed');
    expect(applyGate(passing(), { known: known('- test: s.ok\n'), now: NOW, strictKnown: true }).verdict).toBe('failed');
  });

  test('arch: entries for other architectures neither apply nor go stale; an unknown arch is warned about', () => {
    const yaml = '- test: s.bad\n  arch: arm64\n';
    const x86 = applyGate(result({ 's.bad': 'fail' }), { known: known(yaml), now: NOW, arch: 'x86_64' });
    expect([x86.verdict, x86.stale.length]).toEqual(['failed', 0]);
    const arm = applyGate(result({ 's.bad': 'fail' }), { known: known(yaml), now: NOW, arch: 'arm64' });
    expect(arm.verdict).toBe('passed');
    const fromMetadata = applyGate(result({ 's.bad': 'fail' }, { metadata: { arch: 'arm64' } }), { known: known(yaml), now: NOW });
    expect(fromMetadata.verdict).toBe('passed');
    const unknown = applyGate(result({ 's.bad': 'fail' }), { known: known(yaml), now: NOW });
    expect(unknown.verdict).toBe('failed');
    expect(unknown.warnings[0]).toMatch(/^known\.yaml:1: the entry is for arm64 but the run's architecture is not known/);
  });
});

describe('with a baseline', () => {
  test('only regressions and new failures fail; still failing does not; fixed is reported', () => {
    const base = result({ 's.a': 'pass', 's.b': 'fail', 's.c': 'fail' });
    const still = applyGate(result({ 's.a': 'pass', 's.b': 'fail', 's.c': 'pass' }), { baseline: base, now: NOW });
    expect([still.testVerdict, still.verdict]).toEqual(['failed', 'passed']);
    expect(still.comparison!.fixed.map((t) => t.path)).toEqual(['s.c']);
    const reg = applyGate(result({ 's.a': 'fail', 's.b': 'fail', 's.c': 'fail' }), { baseline: base, now: NOW });
    expect(reg.verdict).toBe('failed');
    expect(reg.failing).toEqual([{ path: 's.a', status: 'fail' }]);
    const fresh = applyGate(result({ 's.a': 'pass', 's.b': 'fail', 's.c': 'fail', 's.new': 'error' }), { baseline: base, now: NOW });
    expect(fresh.failing).toEqual([{ path: 's.new', status: 'error' }]);
  });

  test('missing tests make the run incomplete (exit 3), unless the run was told to leave them out', () => {
    const base = result({ 's.a': 'pass', 's.b': 'pass' });
    const g = applyGate(result({ 's.a': 'pass' }), { baseline: base, now: NOW });
    expect(g.verdict).toBe('incomplete');
    expect(exitCodeFor(g.verdict)).toBe(3);
    const shard = applyGate(result({ 's.a': 'pass' }), { baseline: base, now: NOW, inScope: (p) => p === 's.a' });
    expect(shard.verdict).toBe('passed');
  });

  test('known and baseline combine: a known regression does not fail', () => {
    const base = result({ 's.a': 'pass', 's.b': 'pass' });
    const g = applyGate(result({ 's.a': 'fail', 's.b': 'fail' }), { baseline: base, known: known('- test: s.a\n'), now: NOW });
    expect(g.comparison!.regressions.map((t) => t.path)).toEqual(['s.a', 's.b']);
    expect(g.known.map((k) => k.path)).toEqual(['s.a']);
    expect(g.failing).toEqual([{ path: 's.b', status: 'fail' }]);
    expect(g.verdict).toBe('failed');
  });

  test('no KTAP and no tests stay what they are', () => {
    const r = result({});
    r.verdict = 'no-ktap';
    expect(applyGate(r, { known: [], now: NOW }).verdict).toBe('no-ktap');
  });
});

describe('gating again', () => {
  test('replaces the earlier marks and verdict', () => {
    const r = result({ 's.bad': 'fail' });
    expect(applyGate(r, { known: known('- test: s.bad\n'), now: NOW }).verdict).toBe('passed');
    const again = applyGate(r, { known: [], now: NOW });
    expect([again.testVerdict, again.verdict, again.known]).toEqual(['failed', 'failed', []]);
    expect(r.documents[0]!.tests[0]!.children[0]!.known).toBeUndefined();
    expect(r.documents[0]!.tests[0]!.known).toBeUndefined();
  });
});
