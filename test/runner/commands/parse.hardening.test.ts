/**
 * `kunit-bridge parse` in a hostile environment, through the built CLI: a
 * stdout closed before the first line changes nothing but the console (same
 * exit code, every report written); a report on a full device or a full file
 * system is one line and exit 2, and every other report is still written.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { CLI, runCli, tempDir } from '../../helpers/cli.js';
import { kernelFixture } from '../../helpers/corpus.js';
import { withTmpfs } from '../../helpers/tmpfs.js';

const RUST_LOG = kernelFixture('x86_64-rust-kunit', 'boot.log');

test('stdout closed before the first line: exit 1 as ever, every report written, nothing on stderr', async () => {
  const dir = tempDir();
  const child = spawn(
    process.execPath,
    [CLI, 'parse', RUST_LOG, '--junit', join(dir, 'junit.xml'), '--tap', join(dir, 'r.tap'), '--kunit-json', join(dir, 'k.json')],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // The reading end is gone before the CLI writes anything: its every write to stdout is EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  expect(stderr).toBe('');
  expect(code).toBe(1);
  expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('failures="1"');
  expect(readFileSync(join(dir, 'r.tap'), 'utf8')).toContain('not ok');
  expect(JSON.parse(readFileSync(join(dir, 'k.json'), 'utf8'))).toHaveProperty('test_cases');
});

test('--junit /dev/full: one line, exit 2, the TAP report still written', async () => {
  const dir = tempDir();
  const r = await runCli(['parse', RUST_LOG, '-q', '--junit', '/dev/full', '--tap', join(dir, 'r.tap')]);
  expect(r.stderr).toBe(
    'kunit-bridge: cannot write the junit report to /dev/full: no space left on the device (choose a writable directory)\n',
  );
  expect(r.code).toBe(2);
  expect(readFileSync(join(dir, 'r.tap'), 'utf8')).toContain('not ok');
});

test('a full file system: one line, exit 2, the report elsewhere written, no temp file left', async () => {
  const dir = tempDir();
  const full = join(dir, 'full');
  await withTmpfs(full, { fill: ['reports'] }, async () => {
    const r = await runCli(['parse', RUST_LOG, '-q', '--junit', join(full, 'reports/junit.xml'), '--json', join(dir, 'r.json')]);
    expect(r.stderr).toBe(
      `kunit-bridge: cannot write the junit report to ${join(full, 'reports/junit.xml')}: no space left on the device (choose a writable directory)\n`,
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toMatchObject({ verdict: 'failed' });
    expect(readdirSync(join(full, 'reports'))).toEqual([]);
  });
});
