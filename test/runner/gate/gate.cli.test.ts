/**
 * `parse --known/--baseline`, `compare`, `--markdown` and GitHub annotations
 * through the built CLI, on the fixtures' saved boot logs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { kernelFixture } from '../../helpers/corpus.js';
import { runCli, tempDir } from '../../helpers/cli.js';

const V1 = kernelFixture('x86_64-rust-kunit', 'boot.log');
const V2 = kernelFixture('x86_64-rust-kunit-v2', 'boot.log');
const V2_OOPS = kernelFixture('x86_64-rust-kunit-v2', 'boot-oops.log');
const RUST_FAIL =
  '- test: rust_kunit_fixture.rust_fixture_fail\n  status: failed\n  reason: fails on purpose\n  bug: https://bugs.example.org/1234\n';

function file(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('parse --known', () => {
  test('known → 0, none → 1, expired → 1 with a warning, stale → 0 and 1 with --strict-known', async () => {
    const dir = tempDir();
    const known = file(dir, 'known.yaml', RUST_FAIL);
    const ok = await runCli(['parse', V1, '--known', known, '--markdown', join(dir, 'summary.md')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(
      'Known failures (do not fail the run) (1): rust_kunit_fixture.rust_fixture_fail (fail: fails on purpose https://bugs.example.org/1234)',
    );
    expect(ok.stdout).toContain('Gate: passed (1 known failure); the tests alone: failed');
    expect(ok.stdout).not.toContain('Failures:'); // a known failure is listed as known, not as a failure
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('[bug](https://bugs.example.org/1234)');

    expect((await runCli(['parse', V1, '-q', '--known', file(dir, 'other.yaml', '- test: example.*\n  status: failed\n')])).code).toBe(1);

    const expired = await runCli(['parse', V1, '--known', file(dir, 'expired.yaml', `${RUST_FAIL}  until: 2020-01-31\n`)]);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain(
      `kunit-bridge: ${join(dir, 'expired.yaml')}:1: known entry "rust_kunit_fixture.rust_fixture_fail" expired on 2020-01-31: rust_kunit_fixture.rust_fixture_fail fails as usual`,
    );

    const stale = file(dir, 'stale.yaml', `${RUST_FAIL}- test: rust_kunit_fixture.rust_fixture_add\n  reason: was broken\n`);
    const s0 = await runCli(['parse', V1, '--known', stale]);
    expect(s0.code).toBe(0);
    expect(s0.stdout).toContain(
      `Stale known entries (1): ${stale}:5 "rust_kunit_fixture.rust_fixture_add" (matching tests did not fail: rust_kunit_fixture.rust_fixture_add pass)`,
    );
    const s1 = await runCli(['parse', V1, '--known', stale, '--strict-known']);
    expect(s1.code).toBe(1);
    expect(s1.stdout).toContain('Gate: failed (1 stale known entry, 1 known failure); the tests alone: failed');
  });

  test('a bad known file is exit 2 with FILE:LINE before the log is read', async () => {
    const dir = tempDir();
    const bad = file(dir, 'bad.yaml', '- test: a.b\n  reason: x\n- test: c.d\n  statsu: failed\n');
    const r = await runCli(['parse', join(dir, 'no-such.log'), '--known', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kunit-bridge: ${bad}:4: unknown key "statsu" (an entry has test, status, arch, reason, bug, until)\n`);
    // run: before QEMU starts (no output directory, no console log)
    const out = join(dir, 'never');
    const run = await runCli([
      'run',
      '--kernel',
      kernelFixture('x86_64-rust-kunit', 'bzImage'),
      '--arch',
      'x86_64',
      '-o',
      out,
      '--known',
      bad,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`kunit-bridge: ${bad}:4: unknown key "statsu" (an entry has test, status, arch, reason, bug, until)\n`);
    expect(existsSync(out)).toBe(false);
    const missing = await runCli(['parse', V1, '--known', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the known-failure file');
  });

  test('--arch limits entries; GITHUB_ACTIONS=true prints annotations for what fails', async () => {
    const dir = tempDir();
    const arm = file(dir, 'arm.yaml', `${RUST_FAIL}  arch: arm64\n`);
    expect((await runCli(['parse', V1, '-q', '--known', arm, '--arch', 'x86_64'])).code).toBe(1);
    expect((await runCli(['parse', V1, '-q', '--known', arm, '--arch', 'aarch64'])).code).toBe(0);
    expect((await runCli(['parse', V1, '-q', '--arch', 'sparc'])).code).toBe(2);
    const gh = await runCli(['parse', V1, '-q'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(gh.code).toBe(1);
    expect(gh.stdout).toMatch(
      /^::error file=samples\/rust\/rust_kunit_fixture\.rs,line=68,title=KUnit fail%3A rust_kunit_fixture\.rust_fixture_fail::/,
    );
    expect((await runCli(['parse', V1, '-q'])).stdout).toBe('');
  });
});

describe('--baseline and compare', () => {
  test('the oops regression fails (1); swapped it is fixed (0); parse and compare agree', async () => {
    const dir = tempDir();
    const base = join(dir, 'base.json');
    const oops = join(dir, 'oops.json');
    expect((await runCli(['parse', V2, '-q', '--json', base])).code).toBe(1);
    const r = await runCli(['parse', V2_OOPS, '--baseline', base, '--json', oops]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Regressions (1): kunit_bridge_fixture.oops_test (skip → fail)');
    expect(r.stdout).toContain('Still failing (1): rust_kunit_fixture.rust_fixture_fail (fail)');
    const c = await runCli(['compare', base, oops]);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain('Regressions (1): kunit_bridge_fixture.oops_test (skip → fail)');
    const swapped = await runCli(['compare', oops, base, '--markdown', join(dir, 'm.md')]);
    expect(swapped.code).toBe(0);
    expect(swapped.stdout).toContain('Fixed (1): kunit_bridge_fixture.oops_test (fail → skip)');
    expect(readFileSync(join(dir, 'm.md'), 'utf8')).toContain('- `kunit_bridge_fixture.oops_test`: fail → skip');
    // --known and --baseline together: the regression known, the gate passes.
    const known = file(dir, 'k.yaml', '- test: kunit_bridge_fixture.oops_test\n  status: failed\n');
    expect((await runCli(['compare', base, oops, '-q', '--known', known])).code).toBe(0);
  });

  test('missing tests: exit 3, with why', async () => {
    const dir = tempDir();
    const base = join(dir, 'base.json');
    await runCli(['parse', V2, '-q', '--json', base]);
    const r = await runCli(['parse', kernelFixture('x86_64-rust-kunit-v2', 'boot-oops-panic.log'), '--baseline', base]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Regressions (1): kunit_fault.kunit_test_fault_null_dereference (pass → crashed)');
    expect(r.stdout).toMatch(
      /Missing tests \(48\): kunit_platform_device\.kunit_platform_device_alloc_test \(not run: the kernel crashed in kunit_fault\.kunit_test_fault_null_dereference\)/,
    );
  });

  test('bad results files: exit 2 naming the file', async () => {
    const dir = tempDir();
    const v9 = file(dir, 'v9.json', '{"schemaVersion": 9, "documents": []}');
    const r = await runCli(['compare', v9, v9]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `kunit-bridge: ${v9}: schemaVersion 9 is not one this kunit-bridge reads (1): use the kunit-bridge that wrote it, or a newer one\n`,
    );
    const junk = file(dir, 'junk.json', 'not json');
    expect((await runCli(['parse', V1, '--baseline', junk])).stderr).toMatch(/junk\.json: not JSON/);
    expect((await runCli(['compare', join(dir, 'none.json'), v9])).code).toBe(2);
  });
});
