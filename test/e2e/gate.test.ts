/**
 * The release gate against real QEMU boots (TCG) of the fixture kernels:
 * known failures on x86_64-rust-kunit, and the v2 fixture's Oops mode as a
 * regression against its default boot (and, swapped, as fixed).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { JUNIT_SCHEMAS, REPO, kernelFixture } from '../helpers/corpus.js';
import { CLI, freshCache, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { validate, xpath } from '../helpers/xmllint.js';

const V1 = kernelFixture('x86_64-rust-kunit', 'bzImage');
const V2 = kernelFixture('x86_64-rust-kunit-v2', 'bzImage');
const TCG = ['--accel', 'tcg', '--arch', 'x86_64', '-j', '1'];
const RUST_FAIL = [
  '- test: rust_kunit_fixture.rust_fixture_fail',
  '  status: failed',
  '  arch: [x86_64]',
  '  reason: fails on purpose in the fixture',
  '  bug: https://bugs.example.org/1234',
].join('\n');

function run(kernel: string, out: string, args: string[]): Promise<CliResult> {
  return runCli(['run', '--kernel', kernel, ...TCG, '-o', out, ...args], { env: { KUNIT_BRIDGE_CACHE: freshCache() } });
}

function known(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, `${text}\n`);
  return p;
}

interface Gate {
  verdict: string;
  testVerdict: string;
  known: { path: string }[];
  stale: { test: string }[];
  expired: { until: string }[];
  comparison?: Record<string, { path: string }[]>;
}
const gateOf = (out: string): Gate => (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { gate: Gate }).gate;

describe('x86_64-rust-kunit with --known', () => {
  test('its Rust failure listed as known: exit 0, JUnit shows it skipped as known and validates', async () => {
    const out = tempDir();
    const junit = join(out, 'junit.xml');
    const r = await run(V1, out, [
      '--known',
      known(out, 'known.yaml', RUST_FAIL),
      '--junit',
      junit,
      '--tap',
      join(out, 'r.tap'),
      '--markdown',
      join(out, 'summary.md'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Testing complete. Ran 192 tests: passed: 186, failed: 1, skipped: 5');
    expect(r.stdout).toContain('Gate: passed (1 known failure); the tests alone: failed');
    for (const schema of JUNIT_SCHEMAS) expect(validate(junit, schema).ok).toBe(true);
    const tc = '//testcase[@classname="rust_kunit_fixture"][@name="rust_fixture_fail"]';
    expect(xpath(junit, `string(${tc}/skipped)`)).toBe('known failure: fails on purpose in the fixture https://bugs.example.org/1234');
    expect(xpath(junit, `string(${tc}/system-out)`)).toContain('ASSERTION FAILED at samples/rust/rust_kunit_fixture.rs:68');
    expect(xpath(junit, `count(${tc}/failure)`)).toBe('0');
    expect(readFileSync(join(out, 'r.tap'), 'utf8')).toContain(
      'not ok 3 - rust_fixture_fail # TODO known: fails on purpose in the fixture https://bugs.example.org/1234',
    );
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('## kunit-bridge: ✅ passed');
    const g = gateOf(out);
    expect([g.verdict, g.testVerdict, g.known.map((k) => k.path)]).toEqual(['passed', 'failed', ['rust_kunit_fixture.rust_fixture_fail']]);
  }, 300_000);

  test('without the entry: exit 1', async () => {
    const out = tempDir();
    const r = await run(V1, out, ['-q', '--known', known(out, 'known.yaml', '- test: example.*\n  reason: unrelated')]);
    expect(r.code, r.stderr).toBe(1);
    expect(gateOf(out).verdict).toBe('failed');
  }, 300_000);

  test('an expired entry: exit 1 and a warning naming the entry and its date', async () => {
    const out = tempDir();
    const file = known(out, 'known.yaml', `${RUST_FAIL}\n  until: 2025-12-31`);
    const r = await run(V1, out, ['-q', '--known', file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `${file}:1: known entry "rust_kunit_fixture.rust_fixture_fail" expired on 2025-12-31: rust_kunit_fixture.rust_fixture_fail fails as usual`,
    );
    expect(gateOf(out).expired.map((e) => e.until)).toEqual(['2025-12-31']);
  }, 300_000);

  test('an entry for a passing test is listed stale: exit 0, and 1 with --strict-known', async () => {
    const text = `${RUST_FAIL}\n- test: rust_kunit_fixture.rust_fixture_add\n  reason: was broken once`;
    const out = tempDir();
    const r = await run(V1, out, ['--known', known(out, 'known.yaml', text)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      '"rust_kunit_fixture.rust_fixture_add" (matching tests did not fail: rust_kunit_fixture.rust_fixture_add pass)',
    );
    expect(gateOf(out).stale.map((s) => s.test)).toEqual(['rust_kunit_fixture.rust_fixture_add']);
    const strict = tempDir();
    const s = await run(V1, strict, ['-q', '--known', known(strict, 'known.yaml', text), '--strict-known']);
    expect(s.code, s.stderr).toBe(1);
    expect(gateOf(strict).verdict).toBe('failed');
  }, 300_000);
});

describe('x86_64-rust-kunit-v2: --baseline', () => {
  test('baseline = the default boot, new = mode=oops: exit 1, oops_test the one regression; swapped: fixed, exit 0', async () => {
    const base = tempDir();
    expect((await run(V2, base, ['-q'])).code).toBe(1); // the Rust fixture's failure
    const oops = tempDir();
    const r = await run(V2, oops, [
      '--append',
      'kunit_bridge_fixture.mode=oops',
      '--baseline',
      join(base, 'results.json'),
      '--markdown',
      join(oops, 'summary.md'),
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('Regressions (1): kunit_bridge_fixture.oops_test (skip → fail)');
    const g = gateOf(oops);
    expect(g.comparison!['regressions']!.map((t) => t.path)).toEqual(['kunit_bridge_fixture.oops_test']);
    expect(g.comparison!['newFailures']).toEqual([]);
    expect(g.comparison!['missing']).toEqual([]);
    expect(g.comparison!['stillFailing']!.map((t) => t.path)).toEqual(['rust_kunit_fixture.rust_fixture_fail']);
    expect(readFileSync(join(oops, 'summary.md'), 'utf8')).toContain(
      '### Regressions (1)\n\n- `kunit_bridge_fixture.oops_test`: skip → fail',
    );

    const back = tempDir();
    const s = await run(V2, back, ['--baseline', join(oops, 'results.json')]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('Fixed (1): kunit_bridge_fixture.oops_test (fail → skip)');
    expect(gateOf(back).comparison!['fixed']!.map((t) => t.path)).toEqual(['kunit_bridge_fixture.oops_test']);
    expect(gateOf(back).comparison!['regressions']).toEqual([]);
  }, 600_000);
});

describe('the gate in the live views', () => {
  test("watch prints the gate's lines from run-end and exits with the gate's code", async () => {
    const out = tempDir();
    const file = known(out, 'known.yaml', RUST_FAIL);
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--kernel', V1, ...TCG, '-q', '-o', out, '--known', file, '--serve', '127.0.0.1:0', '--serve-linger', '3'],
      { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUNIT_BRIDGE_CACHE: freshCache() } },
    );
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let err = '';
    const feed = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /feed (ws:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]!.replace(/\/feed.*$/, ''));
      });
      void exited.then((code) => reject(new Error(`run exited ${code} before serving: ${err}`)));
    });
    const watched = await runCli(['watch', feed]);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toContain('Testing complete. Ran 192 tests: passed: 186, failed: 1, skipped: 5');
    expect(watched.stdout).toContain('Known failures (do not fail the run) (1): rust_kunit_fixture.rust_fixture_fail');
    expect(watched.stdout).toContain('Gate: passed (1 known failure); the tests alone: failed');
    expect(await exited).toBe(0);
  }, 300_000);
});
