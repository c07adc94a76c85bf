import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BuildProgress, compilesObject, parseStep, progressLine } from '../../../runner/build/progress.js';
import { REPO } from '../../helpers/corpus.js';

const fixture = (name: string): string[] => readFileSync(join(REPO, 'test/fixtures/build', name), 'utf8').split('\n');

test('kbuild step lines, and what is not one', () => {
  expect(parseStep('  CC      kernel/fork.o')).toEqual({ tool: 'CC', target: 'kernel/fork.o', module: false });
  expect(parseStep('  CC [M]  lib/list-test.o')).toEqual({ tool: 'CC', target: 'lib/list-test.o', module: true });
  expect(parseStep('  RUSTC L rust/core.o')).toEqual({ tool: 'RUSTC L', target: 'rust/core.o', module: false });
  expect(parseStep('  HOSTCC  scripts/basic/fixdep')?.tool).toBe('HOSTCC');
  expect(parseStep("make[1]: Entering directory '/build'")).toBeUndefined();
  expect(parseStep('kernel/fork.c:12:3: warning: unused variable')).toBeUndefined();
  expect(compilesObject(parseStep('  CC      kernel/fork.o')!)).toBe(true);
  expect(compilesObject(parseStep('  HOSTCC  scripts/basic/fixdep')!)).toBe(false);
  expect(compilesObject(parseStep('  LD      vmlinux.o')!)).toBe(false);
});

test('a real cold build log (x86_64, gcc, kunitconfig KUNIT + example + list tests): every object counted, the link seen', () => {
  const lines = fixture('x86_64-gcc-cold.log');
  const p = new BuildProgress();
  const current: string[] = [];
  for (const l of lines) if (p.line(l)) current.push(p.snapshot.current!);
  const s = p.snapshot;
  // Every `CC`/`AS` line of the log is one object (tools/objtool's own included).
  expect(s.compiled).toBe(lines.filter((l) => /^ {2}(CC|AS) {6}\S+\.(o|s)$/.test(l)).length);
  expect(s.compiled).toBe(1116);
  expect(s.steps).toBe(lines.filter((l) => /^ {2}[A-Z]/.test(l)).length);
  expect(s.linked).toBeGreaterThan(0);
  expect(current).toContain('CC lib/list-test.o');
  expect(s.current).toBe('BUILD arch/x86/boot/bzImage');
});

test('a real no-change build log: no object compiled, nothing linked', () => {
  const p = new BuildProgress();
  for (const l of fixture('x86_64-gcc-no-change.log')) p.line(l);
  expect([p.snapshot.compiled, p.snapshot.linked]).toEqual([0, 0]);
  expect(p.snapshot.steps).toBeGreaterThan(0);
});

test('the progress line: elapsed, count (of the estimate), current step', () => {
  const s = { compiled: 312, steps: 400, current: 'CC kernel/fork.o', linked: 0 };
  expect(progressLine(s, 65_000, 1116)).toBe('[1:05] 312/1116 objects  CC kernel/fork.o');
  expect(progressLine(s, 5_000)).toBe('[0:05] 312 objects  CC kernel/fork.o');
  // An estimate already passed is no estimate.
  expect(progressLine(s, 5_000, 100)).toBe('[0:05] 312 objects  CC kernel/fork.o');
});
