/**
 * The test tree mirrors the source tree: `test/X/Y.test.ts`, or
 * `test/X/Y.<aspect>.test.ts` for one more side of the same module, tests
 * `X/Y.ts`. Tests that span many modules live in `test/e2e/` (real QEMU,
 * real CLI runs, a real browser) or `test/corpus/` (every report over the
 * fixture corpora); anything else is in the short allowlist below.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from './helpers/corpus.js';

const SPANNING = ['test/e2e/', 'test/corpus/'];
const ALLOWED = ['test/layout.test.ts', 'test/layering.test.ts'];

/** The source file a test file mirrors (`test/runner/live/server.hostile.test.ts` → `runner/live/server.ts`). */
function mirroredSource(testPath: string): string | undefined {
  const m = /^test\/(?:(.+)\/)?([^/.]+)(?:\.[^/]+)?\.test\.ts$/.exec(testPath);
  return m ? `${m[1] ? `${m[1]}/` : ''}${m[2]}.ts` : undefined;
}

function testFiles(): string[] {
  return readdirSync(join(REPO, 'test'), { recursive: true, encoding: 'utf8' })
    .map((f) => `test/${f.split('\\').join('/')}`)
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
}

test('the mirror rule', () => {
  expect(mirroredSource('test/runner/merge.test.ts')).toBe('runner/merge.ts');
  expect(mirroredSource('test/runner/ktap/index.hostile-bytes.test.ts')).toBe('runner/ktap/index.ts');
  expect(mirroredSource('test/reporters/kunit-json.test.ts')).toBe('reporters/kunit-json.ts');
  expect(mirroredSource('test/layout.test.ts')).toBe('layout.ts');
  expect(mirroredSource('test/runner/x.ts')).toBeUndefined();
});

test('every unit test file mirrors a source file (outside test/e2e/, test/corpus/ and the allowlist)', () => {
  const files = testFiles();
  expect(files.length).toBeGreaterThan(20);
  const unmirrored = files
    .filter((f) => !SPANNING.some((d) => f.startsWith(d)) && !ALLOWED.includes(f))
    // The live page's modules are plain .js (served as they are), the bench scripts .mjs.
    .filter((f) => {
      const src = mirroredSource(f) ?? f;
      return !['.ts', '.js', '.mjs'].some((ext) => existsSync(join(REPO, src.replace(/\.ts$/, ext))));
    });
  expect(unmirrored, 'move each to test/X/Y.test.ts (or test/X/Y.<aspect>.test.ts) next to the X/Y.ts it tests').toEqual([]);
});

test('the allowlist holds only files that exist', () => {
  const files = testFiles();
  for (const f of ALLOWED) expect(files).toContain(f);
});
