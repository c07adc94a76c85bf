/**
 * kunit-bridge as a library: the package's `exports` resolve (by its own name,
 * as a user's `import … from 'kunit-bridge'` would), and importing the CLI
 * module runs nothing (runner/bin.ts is the executable).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { FIXTURES, REPO } from '../helpers/corpus.js';

const node = (code: string) => spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, encoding: 'utf8' });

test('the package entry points resolve by name and parse a real log', () => {
  const log = join(FIXTURES, 'kernels/x86_64-rust-kunit/boot.log');
  const r = node(`
    import { parseLog, reporterByName, isShownFailing } from 'kunit-bridge';
    import { KtapStream } from 'kunit-bridge/ktap';
    import { FILE_REPORTERS } from 'kunit-bridge/reporters';
    import { readFileSync } from 'node:fs';
    const result = parseLog(readFileSync(${JSON.stringify(log)}));
    const junit = reporterByName('junit').render(result, {});
    console.log(JSON.stringify({ verdict: result.verdict, total: result.counts.total, failed: result.counts.failed,
      stream: typeof KtapStream, reporters: FILE_REPORTERS.map((f) => f.name).includes('junit'),
      junit: junit.startsWith('<?xml'), rule: isShownFailing('fail') && !isShownFailing('todo') }));`);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({
    verdict: 'failed',
    total: 192,
    failed: 1,
    stream: 'function',
    reporters: true,
    junit: true,
    rule: true,
  });
});

test('importing runner/cli.js runs nothing: no output, no exit code, no listeners left', () => {
  const r = node(`await import('./dist/runner/cli.js'); console.log('imported');`);
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('imported\n');
});

test('package.json: bin is the shim, and every export target exists after the build', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
    exports: Record<string, string | Record<string, string>>;
  };
  expect(pkg.bin['kunit-bridge']).toBe('dist/runner/bin.js');
  for (const target of Object.values(pkg.exports)) {
    for (const file of typeof target === 'string' ? [target] : Object.values(target))
      expect(() => readFileSync(join(REPO, file))).not.toThrow();
  }
});

test('run as the entry point, runner/cli.js still is the command (scripts that call it keep working)', () => {
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'dist/runner/cli.js'), 'parse', join(FIXTURES, 'ktap/kunit_tool/test_skip_tests.log'), '-q'],
    { encoding: 'utf8' },
  );
  expect([r.status, r.stderr]).toEqual([0, '']);
  const failing = spawnSync(
    process.execPath,
    [join(REPO, 'dist/runner/cli.js'), 'parse', join(FIXTURES, 'kernels/x86_64-rust-kunit/boot.log'), '-q'],
    { encoding: 'utf8' },
  );
  expect(failing.status).toBe(1);
});
