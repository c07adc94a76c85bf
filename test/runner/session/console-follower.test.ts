import { appendFileSync, fstatSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ConsoleFollower } from '../../../runner/session/console-follower.js';
import { tempDir } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait-for.js';

test('what is written to the file reaches the follower, in order, each byte once', async () => {
  const path = join(tempDir(), 'console.log');
  const log = ConsoleFollower.create(path);
  const got: Buffer[] = [];
  log.follow((chunk) => got.push(chunk));
  try {
    const lines = Array.from({ length: 200 }, (_, i) => `[    ${i}.000000] line ${i}\n`);
    for (const l of lines) appendFileSync(path, l);
    const want = lines.join('');
    await waitFor(() => Buffer.concat(got).length >= want.length, { what: 'the whole text' });
    expect(Buffer.concat(got).toString()).toBe(want);
  } finally {
    log.close();
  }
});

test('after following stops, drain reads the rest; readAll and append work on the descriptor', () => {
  const path = join(tempDir(), 'console.log');
  const log = ConsoleFollower.create(path);
  const got: Buffer[] = [];
  log.follow((chunk) => got.push(chunk));
  log.stopFollowing();
  // Bigger than the read buffer: drain loops until the end.
  const big = Buffer.alloc(200_000, 'x');
  appendFileSync(path, big);
  log.drain();
  expect(Buffer.concat(got).equals(big)).toBe(true);
  log.drain();
  expect(Buffer.concat(got).length).toBe(big.length);
  log.append(Buffer.from('qemu-system-x86_64: terminating on signal 15\n'));
  expect(log.readAll().subarray(big.length).toString()).toBe('qemu-system-x86_64: terminating on signal 15\n');
  log.close();
  expect(readFileSync(path).length).toBe(big.length + 45);
});

test('readAll reads what was written through the descriptor, whatever is at the name later', () => {
  const dir = tempDir();
  const path = join(dir, 'console.log');
  const log = ConsoleFollower.create(path);
  appendFileSync(path, 'the real console\n');
  writeFileSync(join(dir, 'other'), 'someone else\n');
  renameSync(join(dir, 'other'), path);
  expect(log.readAll().toString()).toBe('the real console\n');
  log.close();
});

test('the log is created afresh, never through a planted link; a log that cannot be created is E_LOG_WRITE', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'victim'), 'keep me\n');
  symlinkSync(join(dir, 'victim'), join(dir, 'console.log'));
  const log = ConsoleFollower.create(join(dir, 'console.log'));
  log.append(Buffer.from('console\n'));
  log.close();
  expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep me\n');
  expect(readFileSync(join(dir, 'console.log'), 'utf8')).toBe('console\n');
  expect(() => ConsoleFollower.create(join(dir, 'missing', 'console.log'))).toThrow(
    expect.objectContaining({ code: 'E_LOG_WRITE', message: expect.stringContaining('cannot create the raw console log') }),
  );
});

test('close closes the descriptor once, and nothing is read after it', () => {
  const path = join(tempDir(), 'console.log');
  const log = ConsoleFollower.create(path);
  const got: Buffer[] = [];
  log.follow((chunk) => got.push(chunk));
  log.close();
  expect(() => fstatSync(log.fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  log.close();
  appendFileSync(path, 'late\n');
  log.drain();
  expect(got).toEqual([]);
});
