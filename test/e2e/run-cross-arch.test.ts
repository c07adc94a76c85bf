/**
 * arm64 and riscv64 booted end to end on their fixture kernels under TCG
 * (qemu-system-arm: `virt` + cortex-a57 + ttyAMA0; qemu-system-misc: `virt`
 * + OpenSBI), with the README's results.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { kernelFixture } from '../helpers/corpus.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { RUST_KUNIT, suiteCounts } from './expected.js';

test.each([
  ['arm64', 'console=ttyAMA0'],
  ['riscv64', 'console=ttyS0'],
])('%s: the fixture kernel gives the README results', async (arch, console) => {
  const out = tempDir();
  // --accel auto: KVM cannot run a foreign guest, so this must go straight to TCG, silently.
  const r = await runCli(['run', '--kernel', kernelFixture(`${arch}-rust-kunit`, 'Image'), '--arch', arch, '-o', out, '-j', '1', '-q']);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toBe('');
  const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(suiteCounts(json)).toEqual(RUST_KUNIT);
  expect(json.metadata).toMatchObject({ arch, accel: 'tcg' });
  expect(json.metadata.cmdline).toContain(console);
});
