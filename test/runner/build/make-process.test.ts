import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runMake } from '../../../runner/build/make-process.js';
import { processesWith } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait-for.js';

test('a real make: stdout and stderr lines, in the log and to the callback, and its exit code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'make-process-'));
  writeFileSync(join(dir, 'Makefile'), 'all:\n\t@echo "  CC      a.o"\n\t@echo oops >&2\n\t@false\n');
  const log = join(dir, 'build.log');
  const fd = openSync(log, 'w');
  const seen: string[] = [];
  const exit = await runMake({ binary: 'make', args: ['-C', dir] }, { logFd: fd, onLine: (l) => seen.push(l) });
  closeSync(fd);
  expect(exit.code).toBe(2);
  expect(seen).toEqual(exit.lines);
  expect(exit.lines).toContain('  CC      a.o');
  expect(exit.lines).toContain('oops');
  expect(readFileSync(log, 'utf8')).toContain('  CC      a.o\noops\n');
});

test('an abort stops make and every process it started (its whole process group)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'make-group-'));
  // Two "compilers" at once, each a shell that ignores nothing but would run for minutes.
  writeFileSync(join(dir, 'Makefile'), `all: a b\na b:\n\t@echo start $@; sh -c 'sleep 300; echo ${dir}' ${dir}\n`);
  const ac = new AbortController();
  const started: string[] = [];
  const done = runMake({ binary: 'make', args: ['-C', dir, '-j2'] }, { signal: ac.signal, onLine: (l) => started.push(l) });
  await waitFor(() => started.filter((l) => l.startsWith('start')).length === 2, { timeoutMs: 10_000, what: 'both jobs' });
  expect(processesWith(dir).length).toBeGreaterThan(0);
  ac.abort();
  const exit = await done;
  expect(exit.signal ?? exit.code).not.toBe(0);
  await waitFor(() => processesWith(dir).length === 0, { timeoutMs: 10_000, what: 'no sleep left' });
});

test('make not installed: E_TOOLCHAIN_MISSING', async () => {
  await expect(runMake({ binary: 'make', args: [] }, { env: { PATH: '/nonexistent' } })).rejects.toThrow('make is not installed');
});
