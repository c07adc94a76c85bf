import { expect, test } from 'vitest';
import { checkCompiler, missingHostTool, toolVersion } from '../../../runner/build/toolchain.js';
import { BridgeError } from '../../../runner/errors.js';

test('a missing host tool or header in make output: exit 4 with the Debian package', () => {
  const e = missingHostTool(
    ['  LEX     scripts/kconfig/lexer.lex.c', '/bin/sh: 1: flex: not found', 'make[2]: *** Error 127'],
    'b/build.log',
  );
  expect(e).toBeInstanceOf(BridgeError);
  expect([e!.code, e!.exitCode]).toEqual(['E_TOOLCHAIN_MISSING', 4]);
  expect(e!.message).toBe('the kernel build needs flex: /bin/sh: 1: flex: not found (apt-get install flex; full log: b/build.log)');
  expect(
    missingHostTool(['tools/objtool/include/objtool/elf.h:10:10: fatal error: gelf.h: No such file or directory'], 'l')!.message,
  ).toContain('apt-get install libelf-dev');
  expect(missingHostTool(["lib/x.c:3:5: error: 'y' undeclared"], 'l')).toBeUndefined();
});

test('a missing compiler: exit 4 naming it and the package (the profile cross compiler, clang)', () => {
  const thrown = (f: () => void): string => {
    try {
      f();
    } catch (e) {
      return (e as BridgeError).message;
    }
    return '';
  };
  expect(thrown(() => checkCompiler('aarch64-kb-test-missing-gcc', 'arm64', 'aarch64-kb-test-missing-'))).toMatch(
    /^aarch64-kb-test-missing-gcc not found: the arm64 build needs it \(apt-get install the cross compiler for aarch64-kb-test-missing-, or --cross-compile PREFIX/,
  );
  expect(thrown(() => checkCompiler('clang-kb-missing', 'x86_64', undefined))).toContain('apt-get install clang lld llvm');
  // The host's gcc is there (the build e2e needs it too).
  expect(thrown(() => checkCompiler('gcc', 'x86_64', undefined))).toBe('');
  expect(toolVersion('gcc')).toMatch(/^gcc /);
  expect(toolVersion('kb-no-such-tool')).toBeUndefined();
});
