/**
 * runner/output-dir.ts on a real file system: runs started in the same second
 * get `<timestamp>`, `<timestamp>-2`, `-3`…, never one directory for two; many
 * processes racing for the same name each get their own; an output directory
 * that cannot be created is one line, exit 2.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createOutputDir } from '../../runner/output-dir.js';
import { BridgeError } from '../../runner/errors.js';

const AT = new Date('2026-12-01T21:00:00.123Z');

test('the same second three times: three directories, suffixed -2 and -3', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kunit-bridge-outdir-'));
  const dirs = [1, 2, 3].map(() => createOutputDir(cwd, undefined, AT));
  expect(dirs).toEqual(['', '-2', '-3'].map((s) => join(cwd, 'kunit-bridge-out', `2026-12-01T21-00-00${s}`)));
});

test('eight processes racing for the same second each get a directory of their own', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kunit-bridge-outdir-'));
  // Each child waits for the same moment, then creates its directory (the children import the
  // compiled module: `npm run build` first).
  const mod = new URL('../../dist/runner/output-dir.js', import.meta.url).href;
  const start = Date.now() + 1500;
  const script = `const { createOutputDir } = await import(${JSON.stringify(mod)});
    while (Date.now() < ${start}) {}
    process.stdout.write(createOutputDir(${JSON.stringify(cwd)}, undefined, new Date(${AT.getTime()})));`;
  const outs = await Promise.all(
    Array.from(
      { length: 8 },
      () =>
        new Promise<string>((resolve, reject) => {
          const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
          let s = '';
          c.stdout.on('data', (d: Buffer) => {
            s += d.toString();
          });
          c.on('close', (code) => (code === 0 ? resolve(s) : reject(new Error(`child exited ${code}`))));
        }),
    ),
  );
  expect(new Set(outs).size).toBe(8);
  expect(readdirSync(join(cwd, 'kunit-bridge-out')).length).toBe(8);
});

test('-o is used as given, and may exist already', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kunit-bridge-outdir-'));
  expect(createOutputDir(cwd, 'mine', AT)).toBe(join(cwd, 'mine'));
  expect(createOutputDir(cwd, 'mine', AT)).toBe(join(cwd, 'mine'));
});

test('an output directory that cannot be created: E_OUTPUT_DIR, exit 2, one line', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kunit-bridge-outdir-'));
  writeFileSync(join(cwd, 'file'), '');
  let err: unknown;
  try {
    createOutputDir(cwd, 'file/out');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BridgeError);
  expect(err).toMatchObject({ code: 'E_OUTPUT_DIR', exitCode: 2 });
  expect((err as Error).message).toBe(
    `cannot create the output directory ${join(cwd, 'file/out')}: a file is in the way (that path or a parent of it is not a directory)`,
  );
});
