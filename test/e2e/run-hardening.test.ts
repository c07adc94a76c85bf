/**
 * `kunit-bridge run` in a hostile environment, real QEMU under TCG: a stdout
 * closed early changes nothing but the console; SIGHUP ends the run like
 * SIGTERM (reports written, exit 129); a runner killed with SIGKILL takes its
 * QEMU with it (serial and agent lanes); two runs started in the same second
 * get two output directories; symlinks planted in the output directory are
 * never written through; a full or read-only file system is one line and
 * exit 2, with every report that can be written written.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO, kernelFixture } from '../helpers/corpus.js';
import { freshCache, startCli, processesWith, runCli, tempDir } from '../helpers/cli.js';
import { withTmpfs } from '../helpers/tmpfs.js';
import { waitFor } from '../helpers/wait-for.js';

const RUST = kernelFixture('x86_64-rust-kunit', 'bzImage');
const V2 = kernelFixture('x86_64-rust-kunit-v2', 'bzImage');
const RUST_COUNTS = { total: 192, passed: 186, failed: 1, skipped: 5 };

interface Json {
  verdict: string;
  counts: Record<string, number>;
  metadata: Record<string, string>;
}
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;

interface Started {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], cwd = REPO): Started {
  const cli = startCli(['run', '--accel', 'tcg', '-j', '1', ...args], { cwd, env: { KUNIT_BRIDGE_CACHE: freshCache() } });
  return { child: cli.child, stdout: cli.stdout, stderr: cli.stderr, exited: cli.done.then((r) => r.code) };
}

/** A copy of the v2 kernel under a unique name, so this test's QEMU can be told apart from any other. */
function uniqueKernel(dir: string, name: string): string {
  const kernel = join(dir, name);
  copyFileSync(V2, kernel);
  return kernel;
}

/** Start a run whose kernel hangs in `hang_test`, and wait until it hangs there. */
async function startHung(
  dir: string,
  name: string,
  extra: string[] = [],
  waitMs = 60_000,
): Promise<Started & { qemu: number; out: string }> {
  const kernel = uniqueKernel(dir, name);
  const out = join(dir, 'out');
  const run = start([
    '--kernel',
    kernel,
    '-o',
    out,
    '--append',
    'kunit_bridge_fixture.mode=hang',
    '--stall-timeout',
    '0',
    '--junit',
    join(out, 'junit.xml'),
    ...extra,
  ]);
  await waitFor(() => run.stdout().includes('[SKIPPED] oops_test'), {
    timeoutMs: waitMs,
    everyMs: 100,
    what: 'the test before the hanging one to report',
  });
  const qemu = processesWith(name).filter((pid) => /qemu-system/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!));
  expect(qemu).toHaveLength(1);
  return { ...run, qemu: qemu[0]!, out };
}

/** Whether a process is gone (or a zombie waiting to be reaped: it runs no more). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Wait (bounded) for `pid` to go; one that does not is killed, so a failing test leaves no orphan. */
async function waitGone(pid: number, ms = 15_000): Promise<boolean> {
  const wasGone = await waitFor(() => gone(pid), { timeoutMs: ms, everyMs: 50 }).then(
    () => true,
    () => false,
  );
  if (!wasGone) process.kill(pid, 'SIGKILL');
  return wasGone;
}

test('run | head -1: stdout closed after the first line, exit 1 as ever, every report written', async () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  const run = start(['--kernel', RUST, '-o', out, '--junit', join(out, 'junit.xml'), '--tap', join(dir, 'elsewhere.tap')]);
  await new Promise((r) => run.child.stdout.once('data', r));
  // Like `head -1`: the reader goes away while the run still has most of its lines to print.
  run.child.stdout.destroy();
  expect(await run.exited).toBe(1);
  expect(run.stderr()).toBe('');
  expect(readJson(join(out, 'results.json'))).toMatchObject({ verdict: 'failed', counts: RUST_COUNTS });
  expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toContain('failures="1"');
  expect(readFileSync(join(dir, 'elsewhere.tap'), 'utf8')).toContain('not ok');
}, 120_000);

test('SIGHUP in the middle: handled like SIGTERM, QEMU gone, partial reports written, exit 129', async () => {
  const dir = tempDir();
  const run = await startHung(dir, 'bzImage-sighup-test');
  run.child.kill('SIGHUP');
  expect(await run.exited).toBe(129);
  expect(await waitGone(run.qemu)).toBe(true);
  const results = readJson(join(dir, 'out', 'results.json'));
  expect(results.verdict).toBe('incomplete');
  expect(results.metadata['endings']).toBe('interrupted');
  expect(results.counts['passed']).toBe(187);
  expect(existsSync(join(dir, 'out', 'junit.xml'))).toBe(true);
}, 120_000);

/** kill -9 the runner of a hung run: its QEMU must go too. */
async function killNine(name: string, extra: string[] = [], waitMs?: number): Promise<Started & { qemu: number; out: string }> {
  const run = await startHung(tempDir(), name, extra, waitMs);
  expect(gone(run.qemu)).toBe(false);
  run.child.kill('SIGKILL');
  await run.exited;
  expect(await waitGone(run.qemu)).toBe(true);
  expect(processesWith(name)).toEqual([]);
  return run;
}

test('kill -9 of the runner: its QEMU dies with it (setpriv --pdeathsig KILL)', async () => {
  await killNine('bzImage-sigkill-test');
}, 120_000);

test("kill -9 of the runner of an agent run: the agent lane's QEMU dies with it", async () => {
  // The guest boots its init and Node over 9p before the suites run: slower than a serial boot.
  const run = await killNine('bzImage-agent-sigkill-test', ['--agent'], 240_000);
  expect(run.stdout()).toContain('[PASSED] pass_test');
  expect(readFileSync(join(run.out, 'console.log'), 'utf8')).toContain('rootfstype=9p');
}, 300_000);

test('two runs started in the same second without -o: two output directories, each with its own run', async () => {
  const cwd = tempDir();
  // Start both just after a second begins, so they reach their output directory in the same second.
  await waitFor(() => Date.now() % 1000 <= 100, { timeoutMs: 2000, everyMs: 2, what: 'the start of a second' });
  const runs = [start(['--kernel', RUST, '-q'], cwd), start(['--kernel', V2, '-q'], cwd)];
  const codes = await Promise.all(runs.map((r) => r.exited));
  expect(codes).toEqual([1, 1]);
  const dirs = readdirSync(join(cwd, 'kunit-bridge-out')).sort();
  expect(dirs).toHaveLength(2);
  // `YYYY-MM-DDTHH-MM-SS`, then `-2` for the second run of that second.
  const stamps = dirs.map((d) => d.slice(0, 19));
  if (stamps[0] === stamps[1]) expect(dirs[1]).toBe(`${dirs[0]}-2`);
  const kernels = dirs.map((d) => {
    const log = readFileSync(join(cwd, 'kunit-bridge-out', d, 'console.log'), 'utf8');
    expect(log.match(/Linux version/g)).toHaveLength(1);
    return readJson(join(cwd, 'kunit-bridge-out', d, 'results.json')).metadata['kernel'];
  });
  expect(kernels.sort()).toEqual([RUST, V2].sort());
}, 180_000);

test('symlinks planted in the output directory are replaced, never written through', async () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  mkdirSync(out);
  const victims = ['console.log', 'results.json', 'junit.xml'].map((name) => {
    const victim = join(dir, `victim-${name}`);
    writeFileSync(victim, `precious ${name}\n`);
    symlinkSync(victim, join(out, name));
    return victim;
  });
  const r = await runCli(['run', '--kernel', RUST, '--accel', 'tcg', '-j', '1', '-q', '-o', out, '--junit', join(out, 'junit.xml')], {
    env: { KUNIT_BRIDGE_CACHE: freshCache() },
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(1);
  for (const v of victims) expect(readFileSync(v, 'utf8')).toMatch(/^precious /);
  for (const name of ['console.log', 'results.json', 'junit.xml']) expect(lstatSync(join(out, name)).isFile()).toBe(true);
  expect(readFileSync(join(out, 'console.log'), 'utf8')).toContain('# rust_kunit_fixture');
  expect(readJson(join(out, 'results.json'))).toMatchObject({ verdict: 'failed', counts: RUST_COUNTS });
  expect(readdirSync(out).sort()).toEqual(['console.log', 'junit.xml', 'results.json']);
}, 120_000);

test('a full file system: one line, exit 2, the report elsewhere still written', async () => {
  const dir = tempDir();
  const full = join(dir, 'full');
  await withTmpfs(full, { fill: ['out'] }, async () => {
    const r = await runCli(
      ['run', '--kernel', RUST, '--accel', 'tcg', '-j', '1', '-q', '-o', join(full, 'out'), '--junit', join(dir, 'junit.xml')],
      { env: { KUNIT_BRIDGE_CACHE: freshCache() } },
    );
    expect(r.stderr).toBe(
      `kunit-bridge: cannot write the json report to ${join(full, 'out', 'results.json')}: no space left on the device (choose a writable directory)\n`,
    );
    expect(r.code).toBe(2);
    // QEMU could not write the console either: what the junit report says is what was seen.
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('<testsuites');
    expect(readdirSync(join(full, 'out'))).toEqual(['console.log']);
  });
}, 120_000);

test('an output directory on a read-only file system: one line, exit 2, no QEMU started', async () => {
  const dir = tempDir();
  const ro = join(dir, 'ro');
  await withTmpfs(ro, { readOnly: true }, async () => {
    const r = await runCli(
      ['run', '--kernel', RUST, '--accel', 'tcg', '-j', '1', '-q', '-o', join(ro, 'out'), '--junit', join(dir, 'junit.xml')],
      { env: { KUNIT_BRIDGE_CACHE: freshCache() } },
    );
    expect(r.stderr).toBe(
      `kunit-bridge: cannot create the output directory ${join(ro, 'out')}: read-only file system (choose another with -o)\n`,
    );
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'junit.xml'))).toBe(false);
  });
}, 60_000);

test('without setpriv on PATH: one line says so, the run goes on as ever', async () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  const r = await runCli(['run', '--kernel', RUST, '--qemu', '/usr/bin/qemu-system-x86_64', '--accel', 'tcg', '-j', '1', '-q', '-o', out], {
    env: { KUNIT_BRIDGE_CACHE: freshCache(), PATH: join(dir, 'empty-path') },
  });
  expect(r.stderr).toBe('kunit-bridge: setpriv (util-linux) not found: a QEMU would outlive this runner if it were killed with SIGKILL\n');
  expect(r.code).toBe(1);
  expect(readJson(join(out, 'results.json'))).toMatchObject({ verdict: 'failed', counts: RUST_COUNTS });
}, 120_000);

test('a --qemu that is not executable: exit 4, one line (found before setpriv would run it)', async () => {
  const dir = tempDir();
  const fake = join(dir, 'qemu-system-x86_64');
  writeFileSync(fake, '#!/bin/sh\n', { mode: 0o644 });
  const r = await runCli(['run', '--kernel', RUST, '--qemu', fake, '--accel', 'tcg', '-j', '1', '-q', '-o', join(dir, 'out')], {
    env: { KUNIT_BRIDGE_CACHE: freshCache() },
  });
  expect(r.stderr).toBe(`kunit-bridge: ${fake} cannot be executed: permission denied\n`);
  expect(r.code).toBe(4);
}, 60_000);

test('a console log swapped under a running boot: the run reads what QEMU wrote, not the name (--list)', async () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  const forged = join(dir, 'forged.log');
  writeFileSync(
    forged,
    'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: forged_suite\n    1..1\n    ok 1 forged_test\nok 1 forged_suite\n',
  );
  const run = start(['--kernel', RUST, '-o', out, '--list']);
  // As soon as the listing boot's log exists, another user with write access to the directory swaps it.
  const log = join(out, 'console-list.log');
  await waitFor(() => existsSync(log), { timeoutMs: 60_000, everyMs: 1, what: "the listing boot's log" });
  renameSync(forged, log);
  expect(await run.exited).toBe(0);
  const lines = run.stdout().trim().split('\n');
  expect(lines).toContain('rust_kunit_fixture.rust_fixture_fail');
  expect(lines.filter((l) => l.startsWith('rust_doctests_kernel.'))).toHaveLength(114);
  expect(run.stdout()).not.toContain('forged');
}, 120_000);
