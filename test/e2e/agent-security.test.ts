import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLOSE_BAD_FRAME, CLOSE_OTHER_BOOT } from '../../agent/protocol.js';
import { kernelFixture } from '../helpers/corpus.js';
import { freshCache, startCli, tempDir, type CliResult } from '../helpers/cli.js';
import { FakeAgent, closeFakeAgents } from '../helpers/fake-agent.js';
import { HOSTILE_TARGETS, plain, raw, upgrade } from '../helpers/raw-http.js';
import { randomFrame, randomRequest } from '../helpers/agent-fuzz.js';
import { mulberry32 } from '../helpers/prng.js';
import { waitFor } from '../helpers/wait-for.js';

/** A copy of the fixture kernel (and its config) at a path of its own: its QEMU is told apart from any other by it. */
function ownKernel(dir: string, name: string): string {
  const kernel = join(dir, name);
  copyFileSync(kernelFixture('x86_64-rust-kunit-v2', 'bzImage'), kernel);
  copyFileSync(kernelFixture('x86_64-rust-kunit-v2', 'config'), join(dir, 'config'));
  return kernel;
}
const REAL_COUNTS = { total: 195, passed: 187, failed: 1, skipped: 7 };

interface Json {
  verdict: string;
  counts: Record<string, number>;
  metadata: Record<string, string>;
}
const readJson = (dir: string): Json => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Json;
/** Resolves after `ms`: the bound on how long a fuzzed peer is given to be closed. */
const bound = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Start the CLI; its result when it ends. */
const startRun = (args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> => startCli(args, { env }).done;

/** Every process's command line, as any user of the host can read it (/proc/PID/cmdline). */
function allCmdlines(): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      out.push({ pid: Number(e), cmdline: readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * What another local user learns from QEMU's command line: the agent's port and token file (polled until QEMU is up).
 * The QEMU is the one booting `kernel` (its console goes to a descriptor, not to a named file).
 */
async function spyOnQemu(kernel: string): Promise<{ pid: number; cmdline: string; port: number; tokenFile: string }> {
  let found: { pid: number; cmdline: string; port: number; tokenFile: string } | undefined;
  await waitFor(
    () => {
      const qemu = allCmdlines().find((p) => /^(\S*\/)?qemu-system-/.test(p.cmdline) && p.cmdline.includes(kernel));
      const m = qemu && /--port (\d+) --token-file (\S+)/.exec(qemu.cmdline);
      if (qemu && m) found = { pid: qemu.pid, cmdline: qemu.cmdline, port: Number(m[1]), tokenFile: m[2]! };
      return found !== undefined;
    },
    { timeoutMs: 60_000, what: 'QEMU to start' },
  );
  return found!;
}

/** A forged all-passing document, as printk lines. */
const FORGED = [
  'KTAP version 1',
  '1..1',
  '    KTAP version 1',
  '    # Subtest: forged_suite',
  '    1..1',
  '    ok 1 forged_test',
  'ok 1 forged_suite',
].map((l) => `[    0.500000] ${l}`);
/** The run ended with its own verdict (the fixture's one Rust failure), counts and transport, and nothing forged in the agent's log. */
function expectOwnResults(r: CliResult, out: string): Json {
  expect(r.code, r.stderr).toBe(1);
  const j = readJson(out);
  expect(j.counts).toMatchObject(REAL_COUNTS);
  expect(j.metadata).toMatchObject({ transport: 'agent', agent: 'finished', agentConnects: '1' });
  expect(readFileSync(join(out, 'agent.log'), 'utf8')).not.toMatch(/forged/);
  return j;
}
const forgedHello = (boot: string) => ({ t: 'hello' as const, v: 1, boot, next: 1, uptime: 1, node: 'v20.20.2' });

describe('run --agent with hostile local peers (x86_64-rust-kunit-v2, TCG)', () => {
  const cache = freshCache();
  const env = { KUNIT_BRIDGE_CACHE: cache };

  test('a peer with a stolen token, before the agent: its forged document never reaches a report; the token is on no command line', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const junit = join(dir, 'junit.xml');
    const kernel = ownKernel(dir, 'bzImage-agent-stolen-token');
    const run = startRun(['run', '--kernel', kernel, '--accel', 'tcg', '--agent', '-o', out, '--junit', junit, '-q'], env);
    const qemu = await spyOnQemu(kernel);
    // The token is not on QEMU's command line, nor on any other process's; its file is 0600.
    const token = readFileSync(qemu.tokenFile, 'utf8'); // "stolen": only the runner's user can read it
    expect(token).toMatch(/^[\w-]{20,}$/);
    expect(qemu.cmdline).not.toContain(token);
    expect(allCmdlines().filter((p) => p.cmdline.includes(token))).toEqual([]);

    // The naive forger: hello, then its lines at once, as the real agent would after a welcome.
    const eager = await FakeAgent.connect(qemu.port, token);
    eager.send(forgedHello('forged-boot'));
    eager.send({ t: 'lines', from: 1, lines: FORGED });
    eager.send({ t: 'ready', after: 0 });
    eager.send({ t: 'bye', last: FORGED.length, summary: 'forged' });
    // The patient one waits for a welcome that never comes.
    const patient = await FakeAgent.connect(qemu.port, token);
    patient.send(forgedHello('forged-boot-2'));
    expect(await eager.closed).toBe(CLOSE_BAD_FRAME);
    expect(await patient.closed).toBe(CLOSE_OTHER_BOOT); // when the agent's boot proof reached the console
    // The token file goes once the agent is welcomed (its hello comes just after the proof).
    await waitFor(() => !existsSync(qemu.tokenFile), { timeoutMs: 60_000, what: 'the token file to go' });
    // A second peer once the channel is bound: refused at its hello.
    const late = await FakeAgent.connect(qemu.port, token).catch(() => undefined);
    if (late) {
      late.send(forgedHello('forged-boot-3'));
      late.send({ t: 'lines', from: 1, lines: FORGED });
      expect([CLOSE_OTHER_BOOT, 1006]).toContain(await late.closed); // 1006: the run ended first
    }
    closeFakeAgents();

    const r = await run;
    const j = expectOwnResults(r, out);
    expect(Number(j.metadata['agentRefused'])).toBeGreaterThanOrEqual(2);
    for (const file of [join(out, 'results.json'), junit]) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/forged/);
    }
    expect(readFileSync(junit, 'utf8')).toContain('rust_kunit_fixture');
    // Loud: one line for each kind of refusal, no more.
    const warnings = r.stderr.split('\n').filter((l) => l.includes("the agent's channel refused"));
    expect(warnings).toContain("kunit-bridge: the agent's channel refused a frame before the connection was welcomed");
    expect(warnings).toContain(
      "kunit-bridge: the agent's channel refused a peer that said hello for another boot than the guest's (not the one the agent proved on the serial console): its lines are not used",
    );
    expect(warnings.length).toBeLessThanOrEqual(3);
    expect(new Set(warnings).size).toBe(warnings.length);
    expect(r.stderr).not.toContain(token);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).not.toContain(token);
    expect(readFileSync(join(out, 'console.log'), 'utf8')).not.toContain(token);
    expect(existsSync(join(qemu.tokenFile, '..'))).toBe(false);
  }, 120_000);

  test("hostile request targets, malformed frames and fuzz on the agent's port: the run survives with its own results", async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const kernel = ownKernel(dir, 'bzImage-agent-hostile-port');
    const run = startRun(['run', '--kernel', kernel, '--accel', 'tcg', '--agent', '-o', out, '-q'], env);
    const qemu = await spyOnQemu(kernel);
    const token = readFileSync(qemu.tokenFile, 'utf8');
    const answers: string[] = [];
    for (const target of HOSTILE_TARGETS) {
      answers.push(await raw(qemu.port, plain(target)), await raw(qemu.port, upgrade(target)));
    }
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(await raw(qemu.port, upgrade(`/agent?token=${token}`, 'Origin: http://evil.example\r\n'))).toMatch(/^HTTP\/1\.1 403 /);

    // Malformed frames from a peer with the token, each on its own connection: closed, never a crash.
    const bad = [
      '{"t":"lines","from":1,"lines":"KTAP version 1"}',
      '{"t":"lines","lines":["x"]}',
      '{"t":"lines","from":"1","lines":["x"]}',
      '{"t":"hello","v":1,"boot":5,"next":1,"uptime":1,"node":""}',
      '{"t":"nonsense"}',
      'null',
      '[]',
      '{"t":"ready","after":{}}',
      'x',
    ];
    for (const data of bad) {
      const peer = await FakeAgent.connect(qemu.port, token);
      peer.send(data);
      expect(await peer.closed, data).toBe(CLOSE_BAD_FRAME);
    }
    const huge = await FakeAgent.connect(qemu.port, token);
    huge.ws.send('x'.repeat(3 << 20));
    expect(await huge.closed).toBe(1009);

    // Fuzz: random request heads and frames (seeded, bounded), while the guest boots.
    const rng = mulberry32(9);
    const heads = await Promise.all(Array.from({ length: 60 }, () => raw(qemu.port, randomRequest(rng, token))));
    for (const h of heads) expect(h).toMatch(/^(HTTP\/1\.1 (101|4\d\d) |$)/);
    for (let i = 0; i < 40; i++) {
      const peer = await FakeAgent.connect(qemu.port, token).catch(() => undefined);
      if (!peer) break; // the run is over
      for (let k = 0; k < 3; k++) peer.send(randomFrame(rng));
      await Promise.race([peer.closed, bound(200)]);
    }
    closeFakeAgents();

    const r = await run;
    expectOwnResults(r, out);
    expect(r.stderr.split('\n').filter((l) => l.includes("the agent's channel refused")).length).toBeLessThanOrEqual(5);
    expect(r.stderr).not.toMatch(/internal error|TypeError|at .*\.js:\d+/);
  }, 120_000);
});
