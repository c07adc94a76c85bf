import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseFragment } from '../../../runner/build/kunitconfig.js';
import { configHash, inputsHash, needsReconfig, readStamp, STAMP_FILE, writeStamp } from '../../../runner/build/stamp.js';

const entries = (text: string, where: string) => parseFragment(text, where).fragment.entries;

test('the inputs hash: values, arch, cross compiler and make options count; where an option was written does not', () => {
  const a = inputsHash({ entries: entries('CONFIG_KUNIT=y', 'a'), arch: 'x86_64' });
  expect(inputsHash({ entries: entries('\nCONFIG_KUNIT=y', 'b'), arch: 'x86_64' })).toBe(a);
  expect(inputsHash({ entries: entries('CONFIG_KUNIT=m', 'a'), arch: 'x86_64' })).not.toBe(a);
  expect(inputsHash({ entries: entries('CONFIG_KUNIT=y', 'a'), arch: 'arm64' })).not.toBe(a);
  expect(inputsHash({ entries: entries('CONFIG_KUNIT=y', 'a'), arch: 'x86_64', makeOptions: ['LLVM=1'] })).not.toBe(a);
  expect(inputsHash({ entries: entries('CONFIG_KUNIT=y', 'a'), arch: 'x86_64', crossCompile: 'x-' })).not.toBe(a);
});

test('reconfigure unless the stamp, the inputs and the .config all match', () => {
  const stamp = { version: 1 as const, inputs: 'i', config: 'c' };
  expect(needsReconfig(stamp, 'i', 'c')).toBe(false);
  expect(needsReconfig(undefined, 'i', 'c')).toBe(true);
  expect(needsReconfig(stamp, 'j', 'c')).toBe(true);
  expect(needsReconfig(stamp, 'i', 'edited')).toBe(true);
  expect(needsReconfig(stamp, 'i', undefined)).toBe(true);
});

test('the stamp round-trips, is rewritten in place (the directory mtime stays), and a bad one is none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stamp-'));
  expect(readStamp(dir)).toBeUndefined();
  expect(configHash(dir)).toBeUndefined();
  writeFileSync(join(dir, '.config'), 'CONFIG_KUNIT=y\n');
  expect(configHash(dir)).toMatch(/^[0-9a-f]{64}$/);
  writeStamp(dir, { version: 1, inputs: 'i', config: 'c' });
  const dirTime = statSync(dir).mtimeMs;
  const stamp = { version: 1 as const, inputs: 'i', config: 'c', objects: 3, built: { startedMs: 1, endedMs: 2, tools: 't' } };
  writeStamp(dir, stamp);
  expect(readStamp(dir)).toEqual(stamp);
  expect(statSync(dir).mtimeMs).toBe(dirTime);
  writeFileSync(join(dir, STAMP_FILE), '{"version":2}');
  expect(readStamp(dir)).toBeUndefined();
  expect(readFileSync(join(dir, STAMP_FILE), 'utf8')).toBe('{"version":2}');
});
