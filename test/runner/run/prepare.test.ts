import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BridgeError } from '../../../runner/errors.js';
import { prepareRun } from '../../../runner/run/prepare.js';

test('an unknown --arch is a usage error before anything is created', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kb-prepare-'));
  const warnings: string[] = [];
  const err = await prepareRun({ arch: 'sparc', cwd }, (m) => warnings.push(m)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BridgeError);
  expect((err as BridgeError).code).toBe('E_USAGE');
  expect((err as BridgeError).message).toBe('unknown --arch sparc (use x86_64, arm64 or riscv64)');
  expect(warnings).toEqual([]);
  expect(readdirSync(cwd)).toEqual([]);
});
