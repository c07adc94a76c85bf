import { describe, expect, test } from 'vitest';
import { elfMachine, readModule, vermagicProblem } from '../../../runner/ssh/modules.js';
import { kernelFixture } from '../../helpers/corpus.js';

const V3 = { release: '6.12.117', version: '#1 Sat Nov 14 12:56:01 UTC 2026', machine: 'x86_64' };

describe('test modules', () => {
  test('the v3 modules are built for the v3 kernel', () => {
    const m = readModule(kernelFixture('x86_64-rust-kunit-v3', 'modules/list-test.ko'));
    expect(m).toMatchObject({ name: 'list_test', vermagic: '6.12.117', vermagicFull: '6.12.117 mod_unload', machine: 'x86_64' });
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(vermagicProblem(m, V3)).toBeUndefined();
  });

  test('a module of another kernel is refused before insmod, saying why', () => {
    const arm = readModule(kernelFixture('arm64-rust-kunit', 'rust_minimal.ko'));
    expect(arm.machine).toBe('aarch64');
    expect(vermagicProblem(arm, V3)).toBe(
      'rust_minimal.ko was built for "6.12.117 SMP mod_unload aarch64" (aarch64), the target runs 6.12.117 on x86_64 (another machine): not loaded',
    );
    const m = readModule(kernelFixture('x86_64-rust-kunit-v3', 'modules/cmdline_kunit.ko'));
    expect(vermagicProblem(m, { ...V3, release: '6.1.0-13-amd64' })).toMatch(
      /built for "6\.12\.117 mod_unload" \(x86_64\), the target runs 6\.1\.0-13-amd64 on x86_64 \(vermagic\)/,
    );
    expect(vermagicProblem(m, { ...V3, version: '#1 SMP PREEMPT_DYNAMIC Debian' })).toMatch(/, which is SMP \(vermagic\)/);
    expect(elfMachine(Buffer.from('not an ELF file at all'))).toBeUndefined();
  });
});
