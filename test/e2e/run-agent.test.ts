import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectRunReportsAgree } from '../helpers/consumers/index.js';
import { kernelFixture } from '../helpers/corpus.js';
import { freshCache, startCli, processesWith, runCli, tempDir } from '../helpers/cli.js';
import type { Json, JsonDoc, JsonNode } from '../helpers/results-json.js';
import { waitFor } from '../helpers/wait-for.js';
import { parseLog } from '../../runner/ktap/index.js';
import { runCommand } from '../../runner/commands/run.js';
import type { RunResult, TestNode } from '../../runner/ktap/model.js';

const KERNEL = kernelFixture('x86_64-rust-kunit-v2', 'bzImage');
const MODULES = kernelFixture('x86_64-rust-kunit-v2', 'modules');

const readJson = (dir: string): Json => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Json;
type Shape = [string, string, Shape[]];
const shape = (n: JsonNode | TestNode): Shape => [
  n.name,
  n.status,
  ('tests' in n ? (n.tests ?? []) : ((n as TestNode).children ?? [])).map(shape),
];
const docShapes = (docs: (JsonDoc | RunResult['documents'][number])[]): Shape[][] => docs.map((d) => d.tests.map(shape));
const PRINTK = /^\[\s*\d+\.\d{6}\] /;
const lines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l !== '');

/**
 * Every printk line of the console (but QEMU's last `reboot:` lines, printed after the agent has
 * gone) is in the agent's log, in the same order.
 */
function consoleInAgentLog(consoleLog: string, agentLog: string): { missing: string[] } {
  const agent = lines(agentLog);
  const missing: string[] = [];
  let i = 0;
  for (const l of lines(consoleLog).filter((x) => PRINTK.test(x) && !/\] reboot: /.test(x))) {
    const at = agent.indexOf(l, i);
    if (at < 0) missing.push(l);
    else i = at + 1;
  }
  return { missing };
}

/** The agent's own count of the lines it read, printed on the console when it is done. */
function agentLineCount(consoleLog: string): number {
  const m = /kunit-bridge-agent: lines=(\d+) /.exec(readFileSync(consoleLog, 'utf8'));
  expect(m, 'the agent printed its summary').not.toBeNull();
  return Number(m![1]);
}

describe('run --agent (x86_64-rust-kunit-v2, TCG)', () => {
  const cache = freshCache();
  const env = { KUNIT_BRIDGE_CACHE: cache };

  test('serial and agent runs give the same results; the agent lost no console line', async () => {
    const serialDir = tempDir();
    const agentDir = tempDir();
    const serial = await runCli(['run', '--kernel', KERNEL, '--accel', 'tcg', '-o', serialDir, '-q'], { env });
    const agent = await runCli(['run', '--kernel', KERNEL, '--accel', 'tcg', '--agent', '-o', agentDir, '-q'], { env });
    // The fixture's one Rust failure: exit 1 both ways.
    expect(serial.code, serial.stderr).toBe(1);
    expect(agent.code, agent.stderr).toBe(1);
    expect(agent.stderr).not.toMatch(/agent|serial console/);
    const s = readJson(serialDir);
    const a = readJson(agentDir);
    expect(a.metadata).toMatchObject({ transport: 'agent', agent: 'finished', agentConnects: '1' });
    expect(s.metadata['transport']).toBe('serial');
    expect(a.counts).toEqual(s.counts);
    expect(a.counts).toMatchObject({ total: 195, passed: 187, failed: 1, skipped: 7 });
    expect(docShapes(a.documents)).toEqual(docShapes(s.documents));
    expect(consoleInAgentLog(join(agentDir, 'console.log'), join(agentDir, 'agent.log')).missing).toEqual([]);
    expect(lines(join(agentDir, 'agent.log'))).toHaveLength(agentLineCount(join(agentDir, 'console.log')));
  }, 60_000);

  test('the connection cut every 40 lines: nothing lost, nothing doubled', async () => {
    const dir = tempDir();
    const outcome = await runCommand({
      kernel: KERNEL,
      accel: 'tcg',
      modules: [MODULES],
      repeat: 2,
      agentCutEveryLines: 40,
      output: dir,
      stallTimeoutS: 60,
      warn: (m) => {
        throw new Error(`unexpected warning: ${m}`);
      },
    });
    const meta = outcome.result.metadata;
    expect(meta['agent']).toBe('finished');
    // About 1,700 lines: a cut every 40 gives dozens of reconnects, alternately before a frame was
    // stored (the agent must send it again) and after it was stored but not acknowledged (the
    // welcome's `have` must keep the agent from sending it twice).
    expect(Number(meta['agentCuts'])).toBeGreaterThanOrEqual(20);
    expect(Number(meta['agentConnects'])).toBe(Number(meta['agentCuts']) + 1);
    const consoleLog = join(dir, 'console.log');
    const agentLog = join(dir, 'agent.log');
    expect(lines(agentLog)).toHaveLength(agentLineCount(consoleLog));
    expect(Number(meta['agentLines'])).toBe(agentLineCount(consoleLog));
    expect(consoleInAgentLog(consoleLog, agentLog).missing).toEqual([]);
    // The agent's stream parses exactly as the serial console of the same run does.
    const fromConsole = parseLog(readFileSync(consoleLog));
    const fromAgent = parseLog(readFileSync(agentLog));
    expect(docShapes(fromAgent.documents)).toEqual(docShapes(fromConsole.documents));
    expect(fromAgent.counts).toEqual(fromConsole.counts);
    // And the run's result is the boot plus three module documents, each suite with two attempts.
    expect(outcome.result.documents.map((d) => d.origin?.module ?? d.origin?.kind)).toEqual([
      'boot',
      'cmdline_kunit.ko',
      'list-test.ko',
      'rust_kunit_fixture_mod.ko',
    ]);
    expect(outcome.result.counts).toMatchObject({ total: 267, passed: 257, failed: 2, skipped: 8, notRun: 0 });
    for (const d of outcome.result.documents) {
      for (const suite of d.tests) expect(suite.attempts?.length ?? 1, suite.name).toBe(suite.name === 'example_init' ? 1 : 2);
    }
  }, 90_000);

  test('--repeat 3 reports three attempts per suite', async () => {
    const dir = tempDir();
    const r = await runCli(
      [
        'run',
        '--kernel',
        KERNEL,
        '--accel',
        'tcg',
        '--repeat',
        '3',
        '-o',
        dir,
        '--junit',
        join(dir, 'junit.xml'),
        '--tap',
        join(dir, 'r.tap'),
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(1);
    const j = readJson(dir);
    expect(j.metadata).toMatchObject({ transport: 'agent', repeat: '3', agent: 'finished' });
    expect(j.counts).toMatchObject({ total: 195, passed: 187, failed: 1, skipped: 7 });
    const suites = j.documents[0]!.tests;
    expect(suites).toHaveLength(17);
    for (const s of suites) {
      if (s.name === 'example_init') {
        // An __init suite has no debugfs `run` file: it runs once, and the run says so.
        expect(s.attempts).toBeUndefined();
        continue;
      }
      expect(
        s.attempts?.map((a) => a.attempt),
        s.name,
      ).toEqual([1, 2, 3]);
      for (const t of s.tests ?? []) expect(t.attempts?.length, `${s.name}.${t.name}`).toBe(3);
    }
    expect(j.diagnostics.some((d) => /example_init ran once/.test(d.message))).toBe(true);
    const rust = suites.find((s) => s.name === 'rust_kunit_fixture')!;
    expect(rust.tests!.find((t) => t.name === 'rust_fixture_fail')!.attempts!.map((a) => a.status)).toEqual(['fail', 'fail', 'fail']);
    // 6.12 does not run a skipped test again: it says SKIP with no reason, which is no attempt of its own.
    expect(rust.tests!.find((t) => t.name === 'rust_fixture_skip')!.attempts!.map((a) => a.ran ?? true)).toEqual([true, false, false]);
    expect(suites.some((s) => s.flaky)).toBe(false);
    expect(r.stdout).not.toContain('Flaky:');
    expect(r.stdout).toContain('Failures: rust_kunit_fixture.rust_fixture_fail\n');
    await expectRunReportsAgree(dir, r.code, { junit: join(dir, 'junit.xml'), tap: join(dir, 'r.tap') });
  }, 60_000);

  test('--jobs 2 over the test modules gives the same results as one lane', async () => {
    const one = tempDir();
    const two = tempDir();
    const a = await runCli(['run', '--kernel', KERNEL, '--accel', 'tcg', '--modules', MODULES, '-j', '1', '-o', one, '-q'], { env });
    const b = await runCli(
      [
        'run',
        '--kernel',
        KERNEL,
        '--accel',
        'tcg',
        '--modules',
        MODULES,
        '-j',
        '2',
        '-o',
        two,
        '-q',
        '--junit',
        join(two, 'junit.xml'),
        '--tap',
        join(two, 'r.tap'),
      ],
      { env },
    );
    expect(a.code, a.stderr).toBe(1);
    expect(b.code, b.stderr).toBe(1);
    const single = readJson(one);
    const lanes = readJson(two);
    expect(single.metadata['lanes']).toBe('1');
    expect(lanes.metadata['lanes']).toBe('2');
    expect(lanes.counts).toEqual(single.counts);
    expect(single.counts).toMatchObject({ total: 267, passed: 257, failed: 2, skipped: 8 });
    expect(lanes.documents.map((d) => d.origin?.module ?? d.origin?.kind)).toEqual(
      single.documents.map((d) => d.origin?.module ?? d.origin?.kind),
    );
    expect(docShapes(lanes.documents)).toEqual(docShapes(single.documents));
    // The second lane booted with no built-in suite and loaded modules only.
    const lane2 = readFileSync(join(two, 'console-lane-02.log'), 'utf8');
    expect(lane2).toContain('kunit.filter_glob=kunit-bridge-no-builtin-suites');
    expect(lane2).toMatch(/kunit-bridge: step \d+ begin insmod /);
    await expectRunReportsAgree(two, b.code, { junit: join(two, 'junit.xml'), tap: join(two, 'r.tap') });
  }, 90_000);

  test('a guest where Node cannot start falls back to the serial console, with a warning', async () => {
    const dir = tempDir();
    const r = await runCli(
      ['run', '--kernel', KERNEL, '--accel', 'tcg', '--modules', MODULES, '--agent-node', '/nonexistent/node', '-o', dir, '-q'],
      { env },
    );
    // The boot's results are all there; the modules could not be loaded: incomplete.
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /kunit-bridge: the agent never connected; the console said: kunit-bridge-init: error: node is not executable in the guest: \/nonexistent\/node; the results come from the serial console/,
    );
    const j = readJson(dir);
    expect(j.metadata['agent']).toBe('not started');
    expect(j.documents[0]!.tests).toHaveLength(17);
    expect(j.counts).toMatchObject({ passed: 187, failed: 1, skipped: 7, notRun: 4 });
    expect(j.documents.slice(1).map((d) => [d.origin?.module, d.tests[0]!.status])).toEqual(
      ['cmdline_kunit.ko', 'list-test.ko', 'rust_kunit_fixture_mod.ko', 'rust_minimal.ko'].map((m) => [m, 'not-run']),
    );
  }, 60_000);

  test('a kernel that cannot mount the share: the agent deadline falls back to serial', async () => {
    // The v1 kernel has 9p but no PCI_MSI, so under qboot the 9p root mount waits forever. Copied
    // without its config, nothing warns in advance: the deadline has to catch it.
    const dir = tempDir();
    const bare = join(tempDir(), 'bzImage');
    copyFileSync(kernelFixture('x86_64-rust-kunit', 'bzImage'), bare);
    const r = await runCli(['run', '--kernel', bare, '--accel', 'tcg', '--agent', '--agent-timeout', '10', '-o', dir, '-q'], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/no word from the agent within 10 s.*the results come from the serial console/);
    const j = readJson(dir);
    expect(j.metadata).toMatchObject({ agent: 'not started', endings: 'agent-failed' });
    expect(j.counts).toMatchObject({ total: 192, failed: 1 });
  }, 60_000);

  test('the config beside the kernel says the agent cannot run: serial at once, with a warning', async () => {
    const dir = tempDir();
    const r = await runCli(
      ['run', '--kernel', kernelFixture('x86_64-rust-kunit', 'bzImage'), '--accel', 'tcg', '--agent', '-o', dir, '-q'],
      { env },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /the kernel's config lacks .*CONFIG_PCI_MSI.*: the in-guest agent cannot run in it .*running over the serial console only/,
    );
    expect(readJson(dir).metadata['transport']).toBe('serial');
  }, 60_000);

  test('a panic during a step comes from the serial console into the same run', async () => {
    const dir = tempDir();
    const r = await runCli(
      [
        'run',
        '--kernel',
        KERNEL,
        '--accel',
        'tcg',
        '--filter',
        'kunit_fault',
        '--guest-write',
        '/proc/sys/kernel/panic_on_oops=1',
        '--repeat',
        '2',
        '-o',
        dir,
        '-q',
        '--junit',
        join(dir, 'junit.xml'),
        '--tap',
        join(dir, 'r.tap'),
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /the agent's stream ended before its work was done \(the kernel panicked\); the rest come from the serial console/,
    );
    const j = readJson(dir);
    const suite = j.documents[0]!.tests[0]!;
    expect(suite.name).toBe('kunit_fault');
    // Attempt 1 (the boot) Oopsed and recovered; attempt 2, with panic_on_oops set, took the kernel down.
    expect(suite.attempts!.map((a) => a.status)).toEqual(['pass', 'crashed']);
    expect(suite.tests![0]!.attempts!.map((a) => a.status)).toEqual(['pass', 'crashed']);
    expect(j.counts).toMatchObject({ total: 1, crashed: 1 });
    // The panic is only on the console: the agent's stream ends at the step's begin marker.
    expect(readFileSync(join(dir, 'agent.log'), 'utf8')).not.toContain('Kernel panic');
    expect(readFileSync(join(dir, 'console.log'), 'utf8')).toContain('Kernel panic - not syncing: Fatal exception');
    await expectRunReportsAgree(dir, r.code, { junit: join(dir, 'junit.xml'), tap: join(dir, 'r.tap') });
  }, 60_000);
});

test('Ctrl-C during the repeats: QEMU gone, the attempts that ran are reported, exit 130', async () => {
  const dir = tempDir();
  const kernel = join(dir, 'bzImage-agent-signal-test'); // a unique path: this run's QEMU can be told apart
  copyFileSync(KERNEL, kernel);
  copyFileSync(kernelFixture('x86_64-rust-kunit-v2', 'config'), join(dir, 'config'));
  const out = join(dir, 'out');
  const cli = startCli(['run', '--kernel', kernel, '--accel', 'tcg', '--repeat', '50', '-o', out]);
  const child = cli.child;
  const exited = cli.done.then((r) => r.code);
  // Wait until the re-runs are under way: each one is a KTAP document of its own.
  await waitFor(() => /KTAP document 30 /.test(cli.stdout()), { timeoutMs: 120_000, everyMs: 100, what: 'the 30th KTAP document' });
  expect(processesWith('bzImage-agent-signal-test').length).toBeGreaterThan(0);
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(processesWith('bzImage-agent-signal-test')).toEqual([]);
  expect(cli.stderr()).not.toMatch(/agent never connected|stream ended/);
  const j = readJson(out);
  expect(j.verdict).toBe('incomplete');
  // What the tests did stays in the counts; the attempts the run did not reach are listed as such.
  // (The attempt under way when Ctrl-C came may leave one test `incomplete`: it was cut off.)
  expect(j.counts).toMatchObject({ total: 195, notRun: 0, crashed: 0 });
  const n = (k: string): number => j.counts[k] ?? 0;
  expect(n('incomplete')).toBeLessThanOrEqual(1);
  expect(n('passed') + n('failed') + n('skipped') + n('incomplete')).toBe(195);
  const fixture = j.documents[0]!.tests.find((s) => s.name === 'kunit_bridge_fixture')!;
  expect(fixture.attempts!.length).toBe(50);
  expect(fixture.attempts![1]!.status).toBe('pass');
  expect(fixture.attempts![49]!.status).toBe('not-run');
  expect(j.diagnostics.some((d) => /attempts did not run \(interrupted\)/.test(d.message))).toBe(true);
}, 90_000);

test('--repeat with a kernel config without KUNIT_DEBUGFS: a warning before the boot', async () => {
  const dir = tempDir();
  const kernel = join(dir, 'bzImage');
  copyFileSync(KERNEL, kernel);
  writeFileSync(
    join(dir, 'config'),
    readFileSync(kernelFixture('x86_64-rust-kunit-v2', 'config'), 'utf8').replace(
      /^CONFIG_KUNIT_DEBUGFS=y$/m,
      '# CONFIG_KUNIT_DEBUGFS is not set',
    ),
  );
  // QEMU itself is replaced by `false`: only what happens before the boot is looked at.
  const r = await runCli(['run', '--kernel', kernel, '--accel', 'tcg', '--qemu', '/bin/false', '--repeat', '2', '-o', join(dir, 'out')]);
  expect(r.stderr).toContain(
    "kunit-bridge: --repeat needs CONFIG_KUNIT_DEBUGFS (the suites' debugfs run files), which the kernel's config lacks: every suite will run once\n",
  );
  expect(r.code).toBe(4);
});
