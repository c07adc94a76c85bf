import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { buildDirOf, DEFAULT_KUNITCONFIG, findSource, kunitconfigPaths, mergedConfig } from '../../../runner/build/fragments.js';
import { entryLine } from '../../../runner/build/kunitconfig.js';
import { BridgeError } from '../../../runner/errors.js';

/** A kernel tree's bare bones: a Makefile, a Kconfig, and kunit.py's default.config. */
function tree(): string {
  const t = mkdtempSync(join(tmpdir(), 'fragments-'));
  writeFileSync(join(t, 'Makefile'), '');
  writeFileSync(join(t, 'Kconfig'), '');
  mkdirSync(join(t, 'tools/testing/kunit/configs'), { recursive: true });
  writeFileSync(join(t, DEFAULT_KUNITCONFIG), 'CONFIG_KUNIT=y\nCONFIG_KUNIT_EXAMPLE_TEST=y\nCONFIG_KUNIT_ALL_TESTS=y\n');
  writeFileSync(join(t, 'tools/testing/kunit/configs/all_tests.config'), 'CONFIG_KUNIT=y\nCONFIG_KUNIT_ALL_TESTS=y\n');
  return t;
}

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof BridgeError ? `${e.code} ${e.exitCode}` : String(e);
  }
  return undefined;
};

test('the tree must have a Makefile and Kconfig; the build dir is .kunit, under $KBUILD_OUTPUT when set', () => {
  const t = tree();
  expect(findSource(undefined, t)).toBe(t);
  expect(codeOf(() => findSource('/', t))).toBe('E_NOT_KERNEL_TREE 2');
  expect(buildDirOf(t, undefined, {})).toBe(join(t, '.kunit'));
  expect(buildDirOf(t, 'b', { KBUILD_OUTPUT: '/out' })).toBe('/out/b');
  expect(buildDirOf(t, '/abs', {})).toBe('/abs');
});

test("no --kunitconfig: the build dir's .kunitconfig, copied from default.config the first time (as kunit.py)", () => {
  const t = tree();
  const buildDir = join(t, '.kunit');
  const r = { source: t, buildDir, arch: 'x86_64' as const, cwd: t };
  expect(kunitconfigPaths(r)).toEqual([join(buildDir, '.kunitconfig')]);
  expect(readFileSync(join(buildDir, '.kunitconfig'), 'utf8')).toContain('CONFIG_KUNIT_ALL_TESTS=y');
  writeFileSync(join(buildDir, '.kunitconfig'), 'CONFIG_KUNIT=y\n');
  expect(mergedConfig(r).entries.map(entryLine)).toEqual(['CONFIG_SERIAL_8250=y', 'CONFIG_SERIAL_8250_CONSOLE=y', 'CONFIG_KUNIT=y']);
});

test('a directory means its .kunitconfig; --alltests comes first; the profile under all, --kconfig-add over all', () => {
  const t = tree();
  mkdirSync(join(t, 'lib/kunit'), { recursive: true });
  writeFileSync(join(t, 'lib/kunit/.kunitconfig'), 'CONFIG_KUNIT=y\n# CONFIG_SERIAL_8250_CONSOLE is not set\nCONFIG_LIST_KUNIT_TEST=y\n');
  const r = {
    source: t,
    buildDir: join(t, '.kunit'),
    arch: 'x86_64' as const,
    cwd: t,
    kunitconfigs: ['lib/kunit'],
    alltests: true,
    kconfigAdd: ['CONFIG_LIST_KUNIT_TEST=m'],
  };
  const m = mergedConfig(r);
  expect(m.files).toEqual([join(t, 'tools/testing/kunit/configs/all_tests.config'), join(t, 'lib/kunit/.kunitconfig')]);
  expect(m.entries.map((e) => `${entryLine(e)} @${e.where}`)).toEqual([
    'CONFIG_SERIAL_8250=y @the x86_64 profile',
    'CONFIG_KUNIT=y @tools/testing/kunit/configs/all_tests.config:1',
    'CONFIG_KUNIT_ALL_TESTS=y @tools/testing/kunit/configs/all_tests.config:2',
    '# CONFIG_SERIAL_8250_CONSOLE is not set @lib/kunit/.kunitconfig:2',
    'CONFIG_LIST_KUNIT_TEST=m @--kconfig-add',
  ]);
});

test('errors: a missing fragment, a bad line (FILE:LINE), conflicting fragments (both places), a bad --kconfig-add', () => {
  const t = tree();
  const base = { source: t, buildDir: join(t, '.kunit'), arch: 'x86_64' as const, cwd: t };
  expect(codeOf(() => mergedConfig({ ...base, kunitconfigs: ['nope'] }))).toBe('E_KUNITCONFIG 2');
  writeFileSync(join(t, 'bad'), 'CONFIG_KUNIT=y\nKUNIT=y\n');
  expect(() => mergedConfig({ ...base, kunitconfigs: ['bad'] })).toThrow('bad:2: not a Kconfig line: KUNIT=y');
  writeFileSync(join(t, 'a'), 'CONFIG_KUNIT=y\n');
  writeFileSync(join(t, 'b'), '\nCONFIG_KUNIT=m\n');
  expect(() => mergedConfig({ ...base, kunitconfigs: ['a', 'b'] })).toThrow('CONFIG_KUNIT=y (a:1) vs CONFIG_KUNIT=m (b:2)');
  expect(codeOf(() => mergedConfig({ ...base, kunitconfigs: ['a', 'b'] }))).toBe('E_KCONFIG_CONFLICT 2');
  expect(codeOf(() => mergedConfig({ ...base, kunitconfigs: ['a'], kconfigAdd: ['KUNIT'] }))).toBe('E_USAGE 2');
});
