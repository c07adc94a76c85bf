/**
 * One QEMU boot through runSession, in process: a reader that is busy for
 * a while loses nothing (QEMU's UART drops characters into a full pipe, so
 * the console goes through a file), and the raw log is the console.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { buildQemuCommand } from '../../runner/qemu/argv.js';
import { runSession } from '../../runner/session.js';
import { kernelFixture } from '../helpers/corpus.js';
import { tempDir } from '../helpers/cli.js';

test('a reader blocked for 3 s while the kernel boots loses no console byte', async () => {
  const dir = tempDir();
  const rawLogPath = join(dir, 'console.log');
  const command = buildQemuCommand(
    { arch: 'x86_64', kernel: kernelFixture('x86_64-rust-kunit', 'bzImage'), accel: 'tcg', serialFile: rawLogPath },
    existsSync,
  );
  let blocked = false;
  const s = await runSession({
    command,
    debianPackage: 'qemu-system-x86',
    rawLogPath,
    onRaw: () => {
      if (blocked) return;
      blocked = true;
      // A busy reader: QEMU keeps printing meanwhile. Through a pipe (-serial stdio) this loses
      // characters of the early boot (checked: "BIOS-provided physical RAM m0x…d0000-…").
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        /* busy */
      }
    },
  });
  expect(blocked).toBe(true);
  expect(s.ending).toBe('exited');
  expect(s.result.counts).toMatchObject({ total: 192, passed: 186, failed: 1, skipped: 5 });
  expect(s.result.diagnostics.filter((d) => d.code !== 'oops-recovered')).toEqual([]);
  const log = readFileSync(rawLogPath, 'utf8');
  expect(log).toMatch(/\] BIOS-provided physical RAM map:\r?\n/);
  expect(log).toContain('BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable');
  expect(log).toContain('BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved');
  expect(log).toContain('ok 15 rust_doctest_kernel_alloc_kvec_rs_5');
  expect(log).toContain('not ok 16 rust_kunit_fixture');
}, 60_000);
