import { expect, test } from 'vitest';
import { buildCommand, commandLine, compilerOf, olddefconfigCommand, rustavailableCommand } from '../../../runner/build/make-command.js';

const base = { source: '/src/linux', buildDir: '/src/linux/.kunit', jobs: 2 };

test('x86_64: bzImage, ARCH=x86_64, O=, -j, no CROSS_COMPILE', () => {
  expect(commandLine(buildCommand({ ...base, arch: 'x86_64' }))).toBe('make -C /src/linux ARCH=x86_64 O=/src/linux/.kunit -j2 bzImage');
});

test('arm64 and riscv64: Image, the kernel ARCH name, the cross compiler and make options', () => {
  expect(buildCommand({ ...base, arch: 'arm64', crossCompile: 'aarch64-linux-gnu-', makeOptions: ['LLVM=1'], jobs: 8 }).args).toEqual([
    '-C',
    '/src/linux',
    'ARCH=arm64',
    'O=/src/linux/.kunit',
    'CROSS_COMPILE=aarch64-linux-gnu-',
    'LLVM=1',
    '-j8',
    'Image',
  ]);
  expect(commandLine(buildCommand({ ...base, arch: 'riscv64', crossCompile: 'riscv64-linux-gnu-' }))).toBe(
    'make -C /src/linux ARCH=riscv O=/src/linux/.kunit CROSS_COMPILE=riscv64-linux-gnu- -j2 Image',
  );
});

test('modules only when asked; olddefconfig and rustavailable with the same variables and no -j', () => {
  expect(buildCommand({ ...base, arch: 'x86_64', modules: true }).args.slice(-2)).toEqual(['bzImage', 'modules']);
  expect(commandLine(olddefconfigCommand({ ...base, arch: 'x86_64', makeOptions: ['LLVM=1'] }))).toBe(
    'make -C /src/linux ARCH=x86_64 O=/src/linux/.kunit LLVM=1 olddefconfig',
  );
  expect(rustavailableCommand({ ...base, arch: 'x86_64' }).args.at(-1)).toBe('rustavailable');
});

test('the compiler a build uses: CC=, LLVM=1 / -14 / a prefix, else CROSS_COMPILE gcc', () => {
  expect(compilerOf({})).toBe('gcc');
  expect(compilerOf({ crossCompile: 'aarch64-linux-gnu-' })).toBe('aarch64-linux-gnu-gcc');
  expect(compilerOf({ makeOptions: ['LLVM=1'] })).toBe('clang');
  expect(compilerOf({ makeOptions: ['LLVM=-14'] })).toBe('clang-14');
  expect(compilerOf({ makeOptions: ['LLVM=/usr/lib/llvm-14/bin/'] })).toBe('/usr/lib/llvm-14/bin/clang');
  expect(compilerOf({ makeOptions: ['CC=gcc-12', 'LLVM=1'] })).toBe('gcc-12');
});

test('a command line quotes what a shell would split', () => {
  expect(commandLine({ binary: 'make', args: ['-C', '/a b', "it's"] })).toBe("make -C '/a b' 'it'\\''s'");
});
