/**
 * runner/write-file.ts on a real file system: nothing is written through a
 * planted symlink (at the target, at a temporary name, at a fresh log), temp
 * names are not predictable, a killed writer's temp file is removed on the
 * next write, devices and FIFOs are written in place, a full device is an error.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openFresh, tempName, writeFileAtomic } from '../../runner/write-file.js';
import { withTmpfs } from '../helpers/tmpfs.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'kunit-bridge-write-'));

/** A pid that is certainly not running: a child that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('a symlink planted at the target is replaced, its target untouched', () => {
  const d = dir();
  const victim = join(d, 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(d, 'junit.xml'));
  writeFileAtomic(join(d, 'junit.xml'), '<testsuites/>\n');
  expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  expect(lstatSync(join(d, 'junit.xml')).isSymbolicLink()).toBe(false);
  expect(readFileSync(join(d, 'junit.xml'), 'utf8')).toBe('<testsuites/>\n');
});

test('a dangling symlink at the target is replaced, nothing created where it points', () => {
  const d = dir();
  symlinkSync(join(d, 'elsewhere'), join(d, 'results.json'));
  writeFileAtomic(join(d, 'results.json'), '{}\n');
  expect(existsSync(join(d, 'elsewhere'))).toBe(false);
  expect(readFileSync(join(d, 'results.json'), 'utf8')).toBe('{}\n');
});

test('temporary names are unpredictable (64 random bits each), and no temp file stays behind', () => {
  const names = Array.from({ length: 1000 }, () => tempName('r.json'));
  expect(new Set(names).size).toBe(1000);
  for (const n of names) expect(n).toMatch(new RegExp(`^\\.r\\.json\\.kb-${process.pid}-[0-9a-f]{16}\\.tmp$`));
  const d = dir();
  for (let i = 0; i < 20; i++) writeFileAtomic(join(d, 'r.json'), `${i}\n`.repeat(1000));
  expect(readdirSync(d)).toEqual(['r.json']);
  expect(readFileSync(join(d, 'r.json'), 'utf8')).toBe('19\n'.repeat(1000));
});

test("a killed writer's temp file is removed on the next write of that report; a live writer's is kept", () => {
  const d = dir();
  const stale = join(d, `.junit.xml.kb-${deadPid()}-0123456789abcdef.tmp`);
  writeFileSync(stale, 'half a report');
  // A writer that is still running (a live child's pid) is left alone.
  const sleeper = spawn('sleep', ['30']);
  const busy = join(d, `.junit.xml.kb-${sleeper.pid}-fedcba9876543210.tmp`);
  writeFileSync(busy, 'being written');
  // Another report's temp files are not this write's business.
  const other = join(d, `.tap.kb-${deadPid()}-0123456789abcdef.tmp`);
  writeFileSync(other, 'x');
  try {
    writeFileAtomic(join(d, 'junit.xml'), 'new\n');
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(busy)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(readFileSync(join(d, 'junit.xml'), 'utf8')).toBe('new\n');
  } finally {
    sleeper.kill();
  }
});

test('a symlink planted at a stale-looking temp name is unlinked, not followed', () => {
  const d = dir();
  const victim = join(d, 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(d, `.junit.xml.kb-${deadPid()}-0123456789abcdef.tmp`));
  writeFileAtomic(join(d, 'junit.xml'), 'new\n');
  expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  expect(readdirSync(d).sort()).toEqual(['junit.xml', 'victim']);
});

test("openFresh: an old file or a planted symlink at the log's name is unlinked, the log created anew", () => {
  const d = dir();
  const victim = join(d, 'victim');
  writeFileSync(victim, 'precious\n');
  const log = join(d, 'console.log');
  symlinkSync(victim, log);
  const fd = openFresh(log);
  writeSync(fd, 'console\n');
  closeSync(fd);
  expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  expect(lstatSync(log).isSymbolicLink()).toBe(false);
  expect(readFileSync(log, 'utf8')).toBe('console\n');
  const again = openFresh(log);
  closeSync(again);
  expect(readFileSync(log, 'utf8')).toBe('');
});

test('/dev/null and a FIFO are written in place, not replaced', async () => {
  writeFileAtomic('/dev/null', 'nothing\n');
  expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  const d = dir();
  const fifo = join(d, 'fifo');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  // The reader is another process: opening a FIFO for writing waits for one.
  const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  cat.stdout.on('data', (c: Buffer) => {
    got += c.toString();
  });
  const closed = new Promise((r) => cat.on('close', r));
  writeFileAtomic(fifo, 'through the fifo\n');
  await closed;
  expect(got).toBe('through the fifo\n');
  expect(lstatSync(fifo).isFIFO()).toBe(true);
});

test('a full device is an error (ENOSPC), not a silent loss', () => {
  expect(() => writeFileAtomic('/dev/full', 'x'.repeat(10_000))).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
});

test('a report under missing directories on a read-only file system: EROFS, not ENOENT', async () => {
  const d = dir();
  await withTmpfs(join(d, 'ro'), { readOnly: true }, async () => {
    expect(() => writeFileAtomic(join(d, 'ro', 'a', 'b', 'junit.xml'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
  });
});
