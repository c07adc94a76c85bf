import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { describeError, firstError } from '../../../runner/build/first-error.js';
import { REPO } from '../../helpers/corpus.js';

const fixture = (name: string): string[] =>
  readFileSync(join(REPO, 'test/fixtures/build', name), 'utf8')
    .trimEnd()
    .split('\n');

test("gcc's error (real output, LC_ALL=C): file:line, the message, the source excerpt", () => {
  const e = firstError(['  CC      lib/x.o', ...fixture('gcc-error.txt'), 'make[4]: *** [scripts/Makefile.build:229: lib/x.o] Error 1'])!;
  expect(describeError(e)).toBe("broken.c:4: error: expected expression before ';' token");
  expect(e.lines).toEqual([
    "broken.c:4:17: error: expected expression before ';' token",
    '    4 |         int x = ;',
    '      |                 ^',
  ]);
});

test('the tree prefix of an O= build is taken off the location', () => {
  const e = firstError(['/src/linux/lib/list-test.c:20:5: error: expected expression'], '/src/linux')!;
  expect(e.location).toBe('lib/list-test.c:20');
  expect(firstError(['../lib/list-test.c:20: fatal error: x.h: No such file or directory'])!.location).toBe('lib/list-test.c:20');
});

test("GNU ld's undefined reference (real output): the two lines, without debug info no line", () => {
  const e = firstError(fixture('ld-error.txt'))!;
  expect(e).toEqual({
    message: "undefined reference to `missing_symbol'",
    lines: ["ld: undef.o: in function `_start':", "undef.c:(.text+0x5): undefined reference to `missing_symbol'"],
  });
  expect(
    firstError(["ld: vmlinux.o: in function `f':", "/src/linux/kernel/fork.c:12: undefined reference to `g'"], '/src/linux')!.location,
  ).toBe('kernel/fork.c:12');
});

test("ld.lld's undefined symbol (real output): the >>> lines and the location they name", () => {
  const e = firstError(fixture('lld-error.txt'))!;
  expect(e.location).toBe('/home/dev/undef.c:2');
  expect(e.message).toBe('error: undefined symbol: missing_symbol');
  expect(e.lines).toHaveLength(3);
});

test("rustc's error: the --> location", () => {
  const e = firstError([
    'error[E0425]: cannot find value `x` in this scope',
    '  --> rust/kernel/lib.rs:10:5',
    '   |',
    '10 |     x',
    '   |     ^ not found in this scope',
    '',
    'error: aborting due to 1 previous error',
  ])!;
  expect(describeError(e)).toBe('rust/kernel/lib.rs:10: error: cannot find value `x` in this scope');
});

test("no compiler error: make's own *** line; nothing at all: undefined", () => {
  expect(firstError(fixture('rustavailable-no-rustc.log'))?.message).toBe('[/src/linux-source-6.12/Makefile:1801: rustavailable] Error 1');
  expect(firstError(fixture('x86_64-gcc-cold.log'))).toBeUndefined();
  // A warning is not an error.
  expect(firstError(['lib/x.c:3:5: warning: unused variable'])).toBeUndefined();
});
