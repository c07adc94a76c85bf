import { expect, test } from 'vitest';
import {
  describeConflicts,
  entryLine,
  mergeFragments,
  missingOptions,
  overlay,
  parseDotConfig,
  parseFragment,
} from '../../../runner/build/kunitconfig.js';

test('a fragment: options with FILE:LINE, "is not set" as n, comments and blank lines skipped, a later line wins', () => {
  const { fragment, errors } = parseFragment(
    '# KUnit\nCONFIG_KUNIT=y\n\n  CONFIG_CMDLINE="a b"\n# CONFIG_MODULES is not set\nCONFIG_KUNIT=m\n',
    'k.config',
  );
  expect(errors).toEqual([]);
  expect(fragment.entries).toEqual([
    { name: 'CMDLINE', value: '"a b"', where: 'k.config:4' },
    { name: 'MODULES', value: 'n', where: 'k.config:5' },
    { name: 'KUNIT', value: 'm', where: 'k.config:6' },
  ]);
  expect(fragment.entries.map(entryLine)).toEqual(['CONFIG_CMDLINE="a b"', '# CONFIG_MODULES is not set', 'CONFIG_KUNIT=m']);
});

test('a line that is neither an option nor a comment is an error with its place', () => {
  expect(parseFragment('CONFIG_KUNIT=y\nKUNIT=y\n', 'k').errors).toEqual([{ where: 'k:2', line: 'KUNIT=y' }]);
  expect(parseFragment('CONFIG_X=y', '--kconfig-add', false).fragment.entries[0]!.where).toBe('--kconfig-add');
});

test('merging: equal values agree, different ones conflict naming both FILE:LINE (kunit.py get_parsed_kunitconfig)', () => {
  const a = parseFragment('CONFIG_KUNIT=y\nCONFIG_A=y\n', 'a').fragment;
  const b = parseFragment('CONFIG_KUNIT=y\nCONFIG_B=y\n# CONFIG_A is not set\n', 'b').fragment;
  const { entries, conflicts } = mergeFragments([a, b]);
  expect(entries.map(entryLine)).toEqual(['CONFIG_KUNIT=y', 'CONFIG_A=y', 'CONFIG_B=y']);
  expect(describeConflicts(conflicts)).toBe('CONFIG_A=y (a:2) vs # CONFIG_A is not set (b:3)');
  expect(mergeFragments([a, a]).conflicts).toEqual([]);
});

test('overlay: the later list wins (the profile under the kunitconfig, --kconfig-add over both)', () => {
  const base = parseFragment('CONFIG_SERIAL_8250=y\nCONFIG_X=y', 'p', false).fragment.entries;
  const over = parseFragment('CONFIG_X=n', 'k').fragment.entries;
  expect(overlay(base, over).map((e) => `${entryLine(e)} ${e.where}`)).toEqual(['CONFIG_SERIAL_8250=y p', '# CONFIG_X is not set k:1']);
});

test('the option check: a different value, or absent unless asked to be n (kunit.py validate_config)', () => {
  const config = parseDotConfig('CONFIG_KUNIT=y\n# CONFIG_EXT4_FS is not set\nCONFIG_LOG_BUF_SHIFT=17\n');
  expect(config.get('EXT4_FS')).toBe('n');
  const asked = parseFragment(
    'CONFIG_KUNIT=y\nCONFIG_LOG_BUF_SHIFT=18\n# CONFIG_GONE is not set\nCONFIG_EXT4_KUNIT_TESTS=y\nCONFIG_EXT4_FS=n',
    'k',
  ).fragment.entries;
  expect(missingOptions(asked, config).map((e) => e.name)).toEqual(['LOG_BUF_SHIFT', 'EXT4_KUNIT_TESTS']);
});
