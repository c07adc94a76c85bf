import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BridgeError } from '../../../runner/errors.js';
import { isExpired, isIsoDate, loadKnownFile, parseKnownFile } from '../../../runner/gate/known.js';

function error(text: string): BridgeError {
  try {
    parseKnownFile(text, 'known.yaml');
  } catch (e) {
    if (e instanceof BridgeError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('known-failure files', () => {
  test('every field, with defaults, arch as a name or a list, JSON too', () => {
    const entries = parseKnownFile(
      [
        '# known failures',
        '- test: rust_kunit_fixture.rust_fixture_fail   # the Rust failure',
        '  status: failed',
        '  arch: [x86_64, aarch64]',
        '  reason: fails on purpose in the fixture',
        '  bug: https://bugs.example.org/1234',
        '  until: 2027-06-30',
        '- test: "example.*"',
        '  arch: riscv64',
      ].join('\n'),
      'known.yaml',
    );
    expect(entries).toHaveLength(2);
    const [a, b] = entries;
    expect(a).toMatchObject({
      test: 'rust_kunit_fixture.rust_fixture_fail',
      status: 'failed',
      arch: ['x86_64', 'arm64'],
      reason: 'fails on purpose in the fixture',
      bug: 'https://bugs.example.org/1234',
      until: '2027-06-30',
      where: 'known.yaml:2',
      line: 2,
    });
    expect(b).toMatchObject({ test: 'example.*', status: 'any', arch: ['riscv64'], where: 'known.yaml:8' });
    expect(b!.pattern.test('example.example_simple_test')).toBe(true);
    expect(parseKnownFile('[{"test": "a.b", "status": "crashed"}]', 'k.json')[0]).toMatchObject({ test: 'a.b', status: 'crashed' });
  });

  test('an empty file (or only comments) is an empty list', () => {
    expect(parseKnownFile('', 'k.yaml')).toEqual([]);
    expect(parseKnownFile('# nothing known yet\n', 'k.yaml')).toEqual([]);
  });

  test.each([
    ['- test: a.b\n  status: failed\n   bad: [1\n', /^known\.yaml:2: not valid YAML: Nested mappings/],
    ['- test: a.b\n- test: [a\n', /^known\.yaml:3: not valid YAML: Flow sequence/],
    ['- test: a.b\n  reson: typo\n', /^known\.yaml:2: unknown key "reson" \(an entry has test, status, arch, reason, bug, until\)$/],
    ['- test: a.b\n- status: failed\n', /^known\.yaml:2: the entry has no `test: GLOB`$/],
    ['- test: a.b\n- test: "s.[ab"\n', /^known\.yaml:2: bad glob "s\.\[ab": \[ without its closing \] \(column 3\)$/],
    ['- test: a.b\n  status: broken\n', /^known\.yaml:2: status "broken" is not one of failed, crashed, timeout, flaky, any$/],
    ['- test: a.b\n\n  until: 2027-02-30\n', /^known\.yaml:3: until must be a date written YYYY-MM-DD, not "2027-02-30"$/],
    ['- test: a.b\n  until: 30.06.2027\n', /^known\.yaml:2: until must be a date written YYYY-MM-DD/],
    ['- test: a.b\n  arch: [sparc]\n', /^known\.yaml:2: unknown arch "sparc"/],
    ['- test: a.b\n  reason: 42\n', /^known\.yaml:2: reason must be a non-empty string$/],
    ['test: a.b\n', /^known\.yaml:1: a known file is a list of entries/],
    ['- a.b\n', /^known\.yaml:1: an entry must be a mapping/],
    ['- test: a.b\n  test: c.d\n', /^known\.yaml:2: not valid YAML: Map keys must be unique/],
  ])('%j → %s, exit 2', (text, message) => {
    const e = error(text);
    expect(e.message).toMatch(message);
    expect(e.exitCode).toBe(2);
    expect(e.code).toBe('E_KNOWN_FILE');
  });

  test('a missing file is an input error naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'known-'));
    expect(() => loadKnownFile(join(dir, 'nope.yaml'))).toThrow(/cannot read the known-failure file .*nope\.yaml: no such file/);
    writeFileSync(join(dir, 'k.yaml'), '- test: a\n');
    expect(loadKnownFile(join(dir, 'k.yaml'))[0]!.where).toBe(`${join(dir, 'k.yaml')}:1`);
  });
});

describe('dates', () => {
  test.each([
    ['2027-06-30', true],
    ['2024-02-29', true],
    ['2023-02-29', false],
    ['2027-13-01', false],
    ['2027-00-10', false],
    ['2027-6-30', false],
    ['2027-06-31', false],
    ['27-06-30', false],
    ['2027-06-30T00:00', false],
  ])('%s is a date: %s', (text, ok) => {
    expect(isIsoDate(text)).toBe(ok);
  });

  test('an entry applies through its until day (UTC), and expires the day after', () => {
    expect(isExpired('2027-06-30', new Date('2027-06-30T23:59:59Z'))).toBe(false);
    expect(isExpired('2027-06-30', new Date('2027-07-01T00:00:00Z'))).toBe(true);
    expect(isExpired('2027-06-30', new Date('2026-01-01T00:00:00Z'))).toBe(false);
    expect(isExpired(undefined, new Date('2999-01-01T00:00:00Z'))).toBe(false);
  });
});
