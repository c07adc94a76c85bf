/**
 * Ending a run from outside: Ctrl-C (SIGINT) and SIGTERM stop every QEMU
 * child, write partial reports, and exit 130/143. And `--accel auto` on a
 * host where KVM hangs falls back to TCG with one warning.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO, kernelFixture } from '../helpers/corpus.js';
import { CLI, freshCache, processesWith, runCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { kvmUsable } from '../../runner/qemu/accel.js';

async function interrupt(signal: NodeJS.Signals, expected: number): Promise<void> {
  const dir = tempDir();
  // A copy of the kernel with a unique path, so this run's QEMU can be told apart from any other.
  const kernel = join(dir, 'bzImage-signal-test');
  copyFileSync(kernelFixture('x86_64-rust-kunit-v2', 'bzImage'), kernel);
  const out = join(dir, 'out');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'run',
      '--kernel',
      kernel,
      '--accel',
      'tcg',
      '-j',
      '1',
      '-o',
      out,
      '--append',
      'kunit_bridge_fixture.mode=hang',
      '--stall-timeout',
      '0',
      '--junit',
      join(out, 'junit.xml'),
    ],
    { cwd: REPO, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Wait until the hanging test is running: the test before it has reported, and QEMU is alive.
  await waitFor(() => stdout.includes('[SKIPPED] oops_test'), {
    timeoutMs: 60_000,
    everyMs: 100,
    what: 'the test before the hanging one to report',
  });
  expect(processesWith('bzImage-signal-test').length).toBeGreaterThan(0);
  child.kill(signal);
  expect(await exited).toBe(expected);
  expect(processesWith('bzImage-signal-test')).toEqual([]);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(results.counts.passed).toBe(187);
  expect(results.verdict).toBe('incomplete');
  expect(existsSync(join(out, 'junit.xml'))).toBe(true);
  expect(readFileSync(join(out, 'console.log'), 'utf8')).toContain('hang_test: sleeping');
}

test('Ctrl-C in the middle: QEMU gone, partial reports written, exit 130', () => interrupt('SIGINT', 130), 90_000);
test('SIGTERM in the middle: QEMU gone, partial reports written, exit 143', () => interrupt('SIGTERM', 143), 90_000);

test('--accel auto with a KVM that never boots: one warning, TCG, same results; remembered next time', async () => {
  const dir = tempDir();
  // A stand-in QEMU whose KVM hangs silently (as this host's nested KVM does) and which runs the real
  // QEMU otherwise, so the fallback is tested whatever the host's KVM does. The probe only happens
  // when /dev/kvm is usable; without it, auto must go straight to TCG without a word.
  const fake = join(dir, 'qemu-system-x86_64');
  writeFileSync(fake, '#!/bin/sh\ncase " $* " in *" -accel kvm "*) exec sleep 600;; esac\nexec qemu-system-x86_64 "$@"\n');
  chmodSync(fake, 0o755);
  const cache = freshCache();
  const out = join(dir, 'out');
  const kvm = kvmUsable();
  const r = await runCli(['run', '--kernel', kernelFixture('x86_64-rust-kunit', 'bzImage'), '--qemu', fake, '-j', '1', '-o', out, '-q'], {
    env: { KUNIT_BRIDGE_CACHE: cache },
  });
  expect(r.code).toBe(1);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(results.counts).toMatchObject({ passed: 186, failed: 1, skipped: 5 });
  expect(results.metadata.accel).toBe('tcg');
  if (kvm) {
    expect(r.stderr.trim().split('\n')).toEqual([
      'kunit-bridge: KVM did not boot the kernel (no kernel output within 5 s); falling back to TCG',
    ]);
    const again = await runCli(
      ['run', '--kernel', kernelFixture('x86_64-rust-kunit', 'bzImage'), '--qemu', fake, '-j', '1', '-o', join(dir, 'out2'), '-q'],
      { env: { KUNIT_BRIDGE_CACHE: cache } },
    );
    expect(again.stderr).toContain('KVM skipped');
  } else {
    expect(r.stderr).toBe('');
  }
}, 90_000);
