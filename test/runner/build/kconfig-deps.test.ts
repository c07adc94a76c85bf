import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { definitionsIn, explainAll, explainMissing, kconfigFiles, unmetSymbols } from '../../../runner/build/kconfig-deps.js';

// fs/ext4/Kconfig of linux-source-6.12, lines 103-113.
const EXT4 = `
config EXT4_KUNIT_TESTS
	tristate "KUnit tests for ext4" if !KUNIT_ALL_TESTS
	depends on EXT4_FS && KUNIT
	default KUNIT_ALL_TESTS
	help
	  This builds the ext4 KUnit tests.

config EXT4_FS_SECURITY
	bool "Ext4 Security Labels"
	depends on EXT4_FS
`;

test("a config block's depends on lines and prompt; another block ends it", () => {
  expect(definitionsIn(EXT4, 'fs/ext4/Kconfig', 'EXT4_KUNIT_TESTS')).toEqual([
    { where: 'fs/ext4/Kconfig:2', dependsOn: ['EXT4_FS && KUNIT'], hasPrompt: true },
  ]);
  expect(definitionsIn('config FOO\n\tbool\n\tselect BAR\n', 'K', 'FOO')).toEqual([{ where: 'K:1', dependsOn: [], hasPrompt: false }]);
});

test('the symbols of a dependency that are not y or m', () => {
  const config = new Map([
    ['KUNIT', 'y'],
    ['NET', 'm'],
  ]);
  expect(unmetSymbols('EXT4_FS && KUNIT', config)).toEqual(['EXT4_FS']);
  expect(unmetSymbols('NET || !UML', config)).toEqual(['UML']);
});

test('what a missing option needs, in one clause', () => {
  const config = new Map([['KUNIT', 'y']]);
  expect(explainMissing(definitionsIn(EXT4, 'fs/ext4/Kconfig', 'EXT4_KUNIT_TESTS'), config)).toBe(
    'depends on EXT4_FS && KUNIT (fs/ext4/Kconfig:2); not set: CONFIG_EXT4_FS',
  );
  expect(explainMissing([], config)).toMatch(/^no Kconfig file of this tree defines it/);
  expect(explainMissing(definitionsIn('config FOO\n\tbool\n', 'K', 'FOO'), config)).toBe(
    'it has no prompt: only another option that selects it turns it on',
  );
});

test("the tree's Kconfig files are found (dot-directories skipped) and read once for all options", () => {
  const tree = mkdtempSync(join(tmpdir(), 'kconfig-deps-'));
  mkdirSync(join(tree, 'fs/ext4'), { recursive: true });
  mkdirSync(join(tree, '.kunit'));
  writeFileSync(join(tree, 'Kconfig'), 'source "fs/ext4/Kconfig"\n');
  writeFileSync(join(tree, 'fs/ext4/Kconfig'), EXT4);
  writeFileSync(join(tree, '.kunit/Kconfig'), 'config EXT4_KUNIT_TESTS\n\tdepends on NOPE\n');
  expect(kconfigFiles(tree).sort()).toEqual(['Kconfig', 'fs/ext4/Kconfig']);
  expect(explainAll(tree, ['EXT4_KUNIT_TESTS', 'NO_SUCH'], new Map())).toEqual(
    new Map([
      ['EXT4_KUNIT_TESTS', 'depends on EXT4_FS && KUNIT (fs/ext4/Kconfig:2); not set: CONFIG_EXT4_FS, CONFIG_KUNIT'],
      ['NO_SUCH', 'no Kconfig file of this tree defines it (a typo, or an option of another kernel version?)'],
    ]),
  );
});
