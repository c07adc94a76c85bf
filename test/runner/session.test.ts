/**
 * runSession with a real process that is not QEMU (a shell writing KTAP to
 * its fd 3, as QEMU writes the serial console): the wiring, the stop paths,
 * and the clean-up on every path. The QEMU boots are in test/e2e/session.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runSession, type SessionOptions } from '../../runner/session.js';
import { tempDir } from '../helpers/cli.js';

const KTAP = 'KTAP version 1\\n1..2\\nok 1 first\\n# second: running\\n';

function shell(script: string, rawLogPath: string): SessionOptions {
  return { command: { binary: 'sh', args: ['-c', script], cmdline: '' }, debianPackage: 'dash', rawLogPath };
}

const openFds = (): number => readdirSync('/proc/self/fd').length;
/** Processes whose command line holds `marker` (to see that the session's child is gone). */
function running(marker: string): number {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
      } catch {
        return false;
      }
    }).length;
}

test('what the process writes to fd 3 is the log and the parsed run; its stderr goes after it', async () => {
  const rawLogPath = join(tempDir(), 'console.log');
  const s = await runSession({
    ...shell(`printf '${KTAP}ok 2 second\\n' >&3; echo 'its own message' >&2`, rawLogPath),
    keepConsole: true,
  });
  expect(s.ending).toBe('exited');
  expect(s.exit).toEqual({ code: 0, signal: null });
  expect(s.sawKernel).toBe(true);
  expect(s.result.counts).toMatchObject({ total: 2, passed: 2 });
  const log = 'KTAP version 1\n1..2\nok 1 first\n# second: running\nok 2 second\nits own message\n';
  expect(readFileSync(rawLogPath, 'utf8')).toBe(log);
  expect(s.console?.toString()).toBe(log);
  expect(s.stderr).toBe('its own message\n');
});

test('an exit without kernel output is QEMU failing', async () => {
  const s = await runSession(shell('echo "could not open disk image" >&2; exit 1', join(tempDir(), 'console.log')));
  expect(s.ending).toBe('qemu-failed');
  expect(s.sawKernel).toBe(false);
});

test('a stall stops the process and times the running test out', async () => {
  const marker = `sleep 29.${process.pid}1`;
  const s = await runSession({
    ...shell(`printf '${KTAP}' >&3; exec ${marker}`, join(tempDir(), 'console.log')),
    stallTimeoutMs: 500,
  });
  expect(s.ending).toBe('stall');
  expect(s.result.counts).toMatchObject({ passed: 1, timeout: 1 });
  const second = s.result.documents[0]!.tests.find((t) => t.name === 'second');
  expect(second?.reason).toBe('no KTAP progress for 0.5 s (--stall-timeout): the kernel hung');
  expect(running(marker)).toBe(0);
}, 20_000);

test('a throw once the process runs still kills it, and closes the log', async () => {
  const marker = `sleep 29.${process.pid}2`;
  const before = openFds();
  const hostile = new AbortController().signal;
  let whenThrown = 0;
  hostile.addEventListener = () => {
    whenThrown = running(marker);
    throw new Error('listener refused');
  };
  const rawLogPath = join(tempDir(), 'console.log');
  await expect(runSession({ ...shell(`exec ${marker}`, rawLogPath), signal: hostile })).rejects.toThrow('listener refused');
  expect(whenThrown).toBeGreaterThan(0);
  expect(running(marker)).toBe(0);
  expect(openFds()).toBe(before);
  expect(existsSync(rawLogPath)).toBe(true);
}, 20_000);

test('a binary that cannot be started: its error, and the log closed', async () => {
  const before = openFds();
  const opts = shell('', join(tempDir(), 'console.log'));
  await expect(runSession({ ...opts, command: { ...opts.command, binary: 'kb-no-such-qemu' } })).rejects.toMatchObject({
    code: 'E_QEMU_MISSING',
  });
  expect(openFds()).toBe(before);
});
