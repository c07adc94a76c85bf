import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { firstNewer, toolsHash, unchangedSince } from '../../../runner/build/unchanged.js';

/** A tree whose every entry is dated `at` (seconds). */
function tree(at: number): string {
  const root = mkdtempSync(join(tmpdir(), 'unchanged-'));
  mkdirSync(join(root, 'lib'));
  mkdirSync(join(root, '.kunit'));
  writeFileSync(join(root, 'lib/list-test.c'), 'x');
  writeFileSync(join(root, '.kunit/vmlinux'), 'x');
  for (const p of ['lib/list-test.c', '.kunit/vmlinux', 'lib', '.kunit', '.']) utimesSync(join(root, p), at, at);
  return root;
}

test('nothing newer: undefined; an edited file, an added or removed one (its directory): that path', () => {
  const root = tree(1000);
  const skip = new Set<string>();
  expect(firstNewer(root, 1000_000, skip)).toBeUndefined();
  utimesSync(join(root, 'lib/list-test.c'), 2000, 2000);
  expect(firstNewer(root, 1000_000, skip)).toBe(join(root, 'lib/list-test.c'));
  utimesSync(join(root, 'lib/list-test.c'), 1000, 1000);
  rmSync(join(root, 'lib/list-test.c'));
  expect(firstNewer(root, 1000_000, skip)).toBe(join(root, 'lib'));
});

test('skipped paths (the build dir inside the tree, its log) are not looked at', () => {
  const root = tree(1000);
  utimesSync(join(root, '.kunit/vmlinux'), 2000, 2000);
  expect(firstNewer(root, 1000_000, new Set())).toBe(join(root, '.kunit/vmlinux'));
  expect(firstNewer(root, 1000_000, new Set([join(root, '.kunit')]))).toBeUndefined();
});

test("the tools hash: the compilers' versions and kbuild's environment variables, nothing else", () => {
  const a = toolsHash({ cc: 'gcc 12' }, { HOME: '/a', KCFLAGS: '-O2' });
  expect(toolsHash({ cc: 'gcc 12' }, { HOME: '/b', KCFLAGS: '-O2' })).toBe(a);
  expect(toolsHash({ cc: 'gcc 13' }, { HOME: '/a', KCFLAGS: '-O2' })).not.toBe(a);
  expect(toolsHash({ cc: 'gcc 12' }, { HOME: '/a', KCFLAGS: '-O3' })).not.toBe(a);
  expect(toolsHash({ cc: 'gcc 12' }, { HOME: '/a', KCFLAGS: '-O2', KBUILD_BUILD_USER: 'x' })).not.toBe(a);
});

test('unchangedSince: make is skipped only with a last build, the same inputs, tools, an image, and no newer file', () => {
  const root = tree(1000);
  writeFileSync(join(root, 'Makefile'), '');
  mkdirSync(join(root, '.kunit/arch/x86/boot'), { recursive: true });
  writeFileSync(join(root, '.kunit/arch/x86/boot/bzImage'), 'x');
  // `run --build` in the tree writes its reports under kunit-bridge-out/: not sources.
  mkdirSync(join(root, 'kunit-bridge-out/2026-12-02T00-00-00'), { recursive: true });
  for (const p of ['Makefile', '.']) utimesSync(join(root, p), 1000, 1000);
  const o = {
    inputs: 'i',
    config: 'c',
    tools: 't',
    source: root,
    buildDir: join(root, '.kunit'),
    image: join(root, '.kunit/arch/x86/boot/bzImage'),
  };
  const stamp = { version: 1 as const, inputs: 'i', config: 'c', built: { startedMs: 1000_000, endedMs: Date.now() + 60_000, tools: 't' } };
  expect(unchangedSince(stamp, o)).toBe(new Date(stamp.built.endedMs).toISOString());
  expect(unchangedSince({ ...stamp, built: undefined }, o)).toBeUndefined();
  expect(unchangedSince(stamp, { ...o, inputs: 'j' })).toBeUndefined();
  expect(unchangedSince(stamp, { ...o, tools: 'gcc 13' })).toBeUndefined();
  expect(unchangedSince(stamp, { ...o, image: join(root, 'none') })).toBeUndefined();
  utimesSync(join(root, 'lib/list-test.c'), 2000, 2000);
  expect(unchangedSince(stamp, o)).toBeUndefined();
});
