/**
 * `kunit-bridge run` against the real fixture kernels, booted in real QEMU
 * under TCG (KVM does not work on these machines): results, reports, crashes,
 * hangs, sharding, and bad setups.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GOLDEN, JUNIT_SCHEMAS, kernelFixture } from '../helpers/corpus.js';
import { freshCache, processesWith, runCli, tempDir } from '../helpers/cli.js';
import { validate } from '../helpers/xmllint.js';
import { expectRunReportsAgree } from '../helpers/consumers/index.js';
import { RUST_KUNIT, RUST_KUNIT_V2, suiteCounts } from './expected.js';

const V1 = kernelFixture('x86_64-rust-kunit', 'bzImage');
const V2 = kernelFixture('x86_64-rust-kunit-v2', 'bzImage');
const TCG = ['--accel', 'tcg', '--arch', 'x86_64'];

function results(dir: string): {
  verdict: string;
  counts: Record<string, number>;
  documents: {
    tests: {
      name: string;
      status: string;
      tests?: { name: string; status: string; log?: string[]; crash?: { reason: string; trace: string[] } }[];
    }[];
  }[];
} {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
}

describe('x86_64-rust-kunit', () => {
  test('a default run reproduces the README exactly and writes valid reports', async () => {
    const out = tempDir();
    const r = await runCli(
      [
        'run',
        '--kernel',
        V1,
        ...TCG,
        '-o',
        out,
        '-j',
        '1',
        '--junit',
        join(out, 'junit.xml'),
        '--tap',
        join(out, 'r.tap'),
        '--kunit-json',
        join(out, 'kunit.json'),
      ],
      { env: { KUNIT_BRIDGE_CACHE: freshCache() } },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('Testing complete. Ran 192 tests: passed: 186, failed: 1, skipped: 5');
    expect(r.stdout).toContain('[FAILED] rust_fixture_fail');
    const json = results(out);
    expect(suiteCounts(json)).toEqual(RUST_KUNIT);
    expect(existsSync(join(out, 'console.log'))).toBe(true);
    expect(readFileSync(join(out, 'console.log'), 'utf8')).toContain('KTAP version 1');
    for (const schema of JUNIT_SCHEMAS) expect(validate(join(out, 'junit.xml'), schema).ok).toBe(true);
    expect(readFileSync(join(out, 'r.tap'), 'utf8')).toMatch(/^TAP version 14\n/);
    // The kunit.py-compatible report equals kunit.py's own parse of the fixture's boot log,
    // except that `run` knows the arch (kunit.py run fills it in too).
    const golden = readFileSync(join(GOLDEN, 'kunit-py/x86_64-rust-kunit--boot.json'), 'utf8').replaceAll('"arch": ""', '"arch": "x86_64"');
    expect(readFileSync(join(out, 'kunit.json'), 'utf8')).toBe(golden);
    // CI reads the JUnit and TAP as the exit code says (dorny, GitLab, junitparser, tap-parser).
    await expectRunReportsAgree(out, r.code, { junit: join(out, 'junit.xml'), tap: join(out, 'r.tap') });
  });

  test('--filter rust* runs only the two Rust suites', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--kernel', V1, ...TCG, '-o', out, '-j', '1', '--filter', 'rust*', '-q']);
    expect(r.code).toBe(1);
    expect(suiteCounts(results(out))).toEqual(RUST_KUNIT.filter(([n]) => n.startsWith('rust')));
  });

  test('--raw echoes the console as well as the results', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--kernel', V1, ...TCG, '-o', out, '-j', '1', '--filter', 'rust_kunit*', '--raw']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[\s*\d+\.\d+\] Linux version 6\.12/);
    expect(r.stdout).toContain('[FAILED] rust_fixture_fail');
    expect(r.stdout).toContain('Testing complete. Ran 4 tests: passed: 2, failed: 1, skipped: 1');
  });

  test('--list prints every suite.test without running them', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--kernel', V1, ...TCG, '-o', out, '--list']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('rust_kunit_fixture.rust_fixture_fail');
    expect(lines).toContain('example.example_params_test');
    expect(lines.filter((l) => l.startsWith('rust_doctests_kernel.'))).toHaveLength(114);
  });

  test('--jobs 2 --run-isolated suite gives the same results as a single boot', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--kernel', V1, ...TCG, '-o', out, '--jobs', '2', '--run-isolated', 'suite', '-q'], {
      env: { KUNIT_BRIDGE_CACHE: freshCache() },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(suiteCounts(results(out))).toEqual(RUST_KUNIT);
    expect(results(out).verdict).toBe('failed');
  }, 120_000);
});

describe('x86_64-rust-kunit-v2 crash and hang modes', () => {
  test('an Oops that KUnit catches fails the test and the run goes on (exit 1)', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--kernel', V2, ...TCG, '-o', out, '-j', '1', '-q', '--append', 'kunit_bridge_fixture.mode=oops']);
    expect(r.code).toBe(1);
    const json = results(out);
    expect(json.counts).toMatchObject({ passed: 187, failed: 2, skipped: 6 });
  });

  test('oops=panic: names the crashed test with its trace, lists what never ran, exit 3, every report written', async () => {
    const out = tempDir();
    const r = await runCli([
      'run',
      '--kernel',
      V2,
      ...TCG,
      '-o',
      out,
      '-j',
      '1',
      '--append',
      'kunit_bridge_fixture.mode=oops oops=panic',
      '--filter',
      'kunit_bridge_fixture',
      '--junit',
      join(out, 'junit.xml'),
      '--tap',
      join(out, 'r.tap'),
      '--json',
      join(out, 'r.json'),
      '--kunit-json',
      join(out, 'k.json'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('[CRASHED] oops_test');
    const suite = results(out).documents[0]!.tests[0]!;
    expect(suite.name).toBe('kunit_bridge_fixture');
    const crashed = suite.tests!.find((t) => t.name === 'oops_test')!;
    expect(crashed.status).toBe('crashed');
    expect(crashed.crash!.trace.join('\n')).toContain('Kernel panic - not syncing: Fatal exception');
    expect(suite.tests!.map((t) => t.status)).toEqual(['pass', 'crashed', 'not-run']);
    for (const f of ['junit.xml', 'r.tap', 'r.json', 'k.json', 'console.log']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toContain('Fatal exception');
    await expectRunReportsAgree(out, r.code, { junit: join(out, 'junit.xml'), tap: join(out, 'r.tap') });
  });

  test('oops=panic in a full boot: kunit_fault crashes, suites 11-17 never ran', async () => {
    const out = tempDir();
    const r = await runCli([
      'run',
      '--kernel',
      V2,
      ...TCG,
      '-o',
      out,
      '-j',
      '1',
      '-q',
      '--append',
      'kunit_bridge_fixture.mode=oops oops=panic',
    ]);
    expect(r.code).toBe(3);
    const json = results(out);
    expect(json.counts).toMatchObject({ passed: 146, crashed: 1, notRun: 7 });
    expect(json.documents[0]!.tests.map((t) => `${t.name}:${t.status}`).slice(9)).toEqual([
      'kunit_fault:crashed',
      '#11:not-run',
      '#12:not-run',
      '#13:not-run',
      '#14:not-run',
      '#15:not-run',
      '#16:not-run',
      '#17:not-run',
    ]);
  });

  test('a hung test: --stall-timeout kills QEMU, marks hang_test TIMEOUT, exit 3', async () => {
    const dir = tempDir();
    // A copy of the kernel with a unique path, so this run's QEMU can be told apart from any other.
    const kernel = join(dir, 'bzImage-stall-test');
    copyFileSync(V2, kernel);
    const out = join(dir, 'out');
    const r = await runCli([
      'run',
      '--kernel',
      kernel,
      ...TCG,
      '-o',
      out,
      '-j',
      '1',
      '--append',
      'kunit_bridge_fixture.mode=hang',
      '--stall-timeout',
      '4',
      '--junit',
      join(out, 'junit.xml'),
    ]);
    expect(r.code).toBe(3);
    // Stopped by the stall timer, not by KUnit's own 300 s timeout (which would make hang_test a failure):
    // the session's ending, the test's reason, QEMU gone, and no "test case timed out" from KUnit.
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { metadata: Record<string, string> };
    expect(json.metadata.endings).toBe('stall');
    expect(processesWith('bzImage-stall-test')).toEqual([]);
    expect(readFileSync(join(out, 'console.log'), 'utf8')).not.toContain('test case timed out');
    const suite = results(out).documents[0]!.tests.find((t) => t.name === 'kunit_bridge_fixture')!;
    expect(suite.tests!.map((t) => `${t.name}:${t.status}`)).toEqual(['pass_test:pass', 'oops_test:skip', 'hang_test:timeout']);
    expect((suite.tests![2] as { reason?: string }).reason).toBe('no KTAP progress for 4 s (--stall-timeout): the kernel hung');
    // It ran until the stall timer stopped it, not until its last line.
    const hang = suite.tests![2] as { durationMs?: number };
    expect(hang.durationMs).toBeGreaterThan(3500);
    expect(results(out).counts).toMatchObject({ passed: 187, failed: 1, skipped: 6, timeout: 1 });
    expect(existsSync(join(out, 'junit.xml'))).toBe(true);
    expect(r.stderr + r.stdout).toContain('no KTAP progress for 4 s');
    await expectRunReportsAgree(out, r.code, { junit: join(out, 'junit.xml') });
  });

  test('default boot reproduces the v2 README', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--kernel', V2, ...TCG, '-o', out, '-j', '1', '-q']);
    expect(r.code).toBe(1);
    expect(suiteCounts(results(out))).toEqual(RUST_KUNIT_V2);
  });
});

describe('bad setups: clear one-line errors and distinct exit codes', () => {
  test('missing QEMU binary: exit 4, says what to install', async () => {
    const r = await runCli(['run', '--kernel', V1, ...TCG, '-o', tempDir(), '--qemu', '/nonexistent/qemu-system-x86_64']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not found: install it \(apt-get install qemu-system-x86\) or pass --qemu PATH/);
  });

  test('a kernel image that cannot be read: exit 4', async () => {
    const dir = tempDir();
    const r = await runCli(['run', '--kernel', join(dir, 'missing-bzImage'), ...TCG, '-o', dir]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot read kernel image .*missing-bzImage: no such file/);
  });

  test('wrong arch for the image: exit 2; unknown arch: exit 2', async () => {
    const r = await runCli(['run', '--kernel', V1, '--arch', 'arm64', '--accel', 'tcg', '-o', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is an x86_64 kernel image, but the run is for arm64 \(pass --arch x86_64\)/);
    const u = await runCli(['run', '--kernel', V1, '--arch', 'sparc', '-o', tempDir()]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/unknown --arch sparc/);
  });

  test('no --kernel and no kernel tree: exit 2, says what was looked for', async () => {
    const dir = tempDir();
    const r = await runCli(['run', ...TCG, '-o', join(dir, 'out')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('looked for .kunit/arch/x86/boot/bzImage');
  });

  test('a kernel found in a kunit.py build dir (.kunit/arch/x86/boot/bzImage)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.kunit/arch/x86/boot'), { recursive: true });
    copyFileSync(V1, join(dir, '.kunit/arch/x86/boot/bzImage'));
    const r = await runCli(['run', ...TCG, '-o', join(dir, 'out'), '-q', '--filter', 'example_init'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(results(join(dir, 'out')).counts).toMatchObject({ total: 1, passed: 1 });
  });

  test('a bad flag: exit 2, one line', async () => {
    const r = await runCli(['run', '--jobs', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
