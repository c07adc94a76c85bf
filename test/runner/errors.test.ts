/**
 * The error table (runner/errors.ts) and docs/errors.md list the same codes
 * with the same layer and exit code, and a BridgeError takes both from it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BridgeError, ERROR_CODES, type ErrorCode } from '../../runner/errors.js';
import { REPO } from '../helpers/corpus.js';

const documented = new Map(
  [...readFileSync(join(REPO, 'docs/errors.md'), 'utf8').matchAll(/^\| `(E_[A-Z_]+)` \| ([a-z]+) \| (\d+) \|/gm)].map((m) => [
    m[1]!,
    { layer: m[2]!, exit: Number(m[3]) },
  ]),
);

test('docs/errors.md has a row for every code, with its layer and exit code, and no other', () => {
  expect(documented.size).toBeGreaterThan(20);
  expect(Object.fromEntries(documented)).toEqual(
    Object.fromEntries(Object.entries(ERROR_CODES).map(([k, v]) => [k, { layer: v.layer, exit: v.exit }])),
  );
});

test('every code a source file throws is in the table', () => {
  const used = new Set(
    execFileSync('git', ['grep', '-ohE', "BridgeError\\(\\s*'E_[A-Z_]+'", '--', 'runner', 'agent', 'reporters'], {
      cwd: REPO,
      encoding: 'utf8',
    }).match(/E_[A-Z_]+/g),
  );
  for (const code of used) expect(Object.keys(ERROR_CODES)).toContain(code);
  expect(used.size).toBeGreaterThan(15);
});

test("a BridgeError carries its code's layer and exit code", () => {
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const e = new BridgeError(code, 'x');
    expect([e.layer, e.exitCode]).toEqual([ERROR_CODES[code].layer, ERROR_CODES[code].exit]);
  }
});
