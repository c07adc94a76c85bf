import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshCache, startCli, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import type { Json, JsonNode } from '../helpers/results-json.js';
import { kernelFixture } from '../helpers/corpus.js';
import { bootBoard, boardDir, V3, type Board } from '../helpers/ssh-board.js';
import { runCommand } from '../../runner/commands/run.js';

const readJson = (dir: string): Json => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Json;
type Shape = [string, string, number, Shape[]];
const shape = (n: JsonNode): Shape => [n.name, n.status, n.attempts?.length ?? 0, (n.tests ?? []).map(shape)];
const docShapes = (j: Json): [string, string, Shape[]][] =>
  j.documents.map((d) => [d.origin?.kind ?? '', d.origin?.module ?? '', d.tests.map(shape)]);
const MODULES = V3('modules');

/** Every record of kmsg.log once, in order, from seq 0 with no gap. */
function kmsgSeqs(dir: string): number[] {
  return readFileSync(join(dir, 'kmsg.log'), 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split(',')[1]));
}
function consecutive(seqs: number[]): boolean {
  return seqs.every((s, i) => s === i);
}

/**
 * A TCP proxy between kunit-bridge and the board that closes both sides of a connection once the
 * board has sent it `budgets[k]` bytes (connection k), for the first `budgets.length` connections.
 */
class CuttingProxy {
  readonly server: Server;
  cuts = 0;
  connections = 0;
  constructor(
    target: number,
    private readonly budgets: number[],
  ) {
    this.server = createServer((client: Socket) => {
      const budget = this.budgets[this.connections++];
      const up = tcpConnect(target, '127.0.0.1');
      let sent = 0;
      const cut = (): void => {
        this.cuts++;
        client.destroy();
        up.destroy();
      };
      up.on('data', (d: Buffer) => {
        if (budget !== undefined && sent + d.length >= budget) {
          client.write(d.subarray(0, Math.max(0, budget - sent)), cut);
          sent = budget;
          return;
        }
        sent += d.length;
        client.write(d);
      });
      client.on('data', (d: Buffer) => up.write(d));
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
    });
  }

  listen(): Promise<number> {
    return new Promise((r) => this.server.listen(0, '127.0.0.1', () => r((this.server.address() as { port: number }).port)));
  }
}

/** Start the CLI in the background; resolves with its result. */
function startRun(args: string[], env: NodeJS.ProcessEnv): { done: Promise<CliResult>; started: number } {
  return { started: Date.now(), done: startCli(args, { env }).done };
}

async function waitFor(what: string, cond: () => boolean, limitMs = 120_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('run --target ssh:// (x86_64-rust-kunit-v3 running sshd, TCG)', () => {
  const env = { KUNIT_BRIDGE_CACHE: freshCache(), SSH_AUTH_SOCK: '' };
  let board: Board;
  const target = (port = board.port): string => `ssh://root@127.0.0.1:${port}`;
  const base = (dir: string, port?: number): string[] => [
    'run',
    '--target',
    target(port),
    '--identity',
    board.identity,
    '--known-hosts',
    board.knownHosts,
    '-o',
    dir,
    '-q',
  ];
  let reference: Json;

  beforeAll(async () => {
    board = await bootBoard();
  }, 120_000);
  afterAll(async () => {
    await board?.stop();
  });

  test('host keys: unknown → refused with the fingerprint, nothing run; accept-new records it; changed → refused; wrong key → auth error', async () => {
    const kh = join(tempDir(), 'known_hosts');
    const dir = tempDir();
    const unknown = await runCli([...base(dir), '--known-hosts', kh], { env });
    expect(unknown.code, unknown.stderr).toBe(6);
    expect(unknown.stderr).toContain(`is not known: ssh-ed25519 ${board.fingerprint}`);
    expect(unknown.stderr).toContain('--accept-new-host-key');
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'results.json'))).toBe(false);
    expect(readFileSync(join(dir, 'target.log'), 'utf8')).not.toContain('$ '); // no command ran
    expect(existsSync(kh)).toBe(false);

    const other = boardDir(board.port); // another host key for the same [127.0.0.1]:PORT, and another client key
    const changed = await runCli([...base(tempDir()), '--known-hosts', other.knownHosts, '--accept-new-host-key'], { env });
    expect(changed.code, changed.stderr).toBe(7);
    expect(changed.stderr).toMatch(/has CHANGED: it offers ssh-ed25519 SHA256:\S+, \S+:1 lists another; refusing to connect/);

    const badKey = await runCli([...base(tempDir()), '--identity', other.identity], { env });
    // (--identity given twice: both keys are offered; the second one is authorized. Alone, the wrong one fails.)
    expect(badKey.code, badKey.stderr).toBe(1);
    const wrong = await runCli(
      ['run', '--target', target(), '--identity', other.identity, '--known-hosts', board.knownHosts, '-o', tempDir(), '-q'],
      { env },
    );
    expect(wrong.code, wrong.stderr).toBe(8);
    expect(wrong.stderr).toMatch(/refused every login offered \(publickey\)/);

    const tofu = tempDir();
    const accepted = await runCli([...base(tofu), '--known-hosts', kh, '--accept-new-host-key'], { env });
    expect(accepted.code, accepted.stderr).toBe(1); // the fixture's one Rust failure
    expect(accepted.stderr).toContain(`recorded the host key of ${target()} (ssh-ed25519 ${board.fingerprint})`);
    expect(readFileSync(kh, 'utf8')).toBe(`${readFileSync(board.knownHosts, 'utf8')}`);
    expect(readJson(tofu).metadata).toMatchObject({ hostKeyCheck: 'recorded', transport: 'ssh' });

    const pinned = await runCli(
      ['run', '--target', target(), '--identity', board.identity, '--host-key', board.fingerprint, '-o', tempDir(), '-q'],
      { env },
    );
    expect(pinned.code, pinned.stderr).toBe(1);

    const dead = await runCli(
      ['run', '--target', 'ssh://root@127.0.0.1:1', '--identity', board.identity, '--known-hosts', board.knownHosts, '-o', tempDir(), '-q'],
      { env },
    );
    expect(dead.code, dead.stderr).toBe(4);
    expect(dead.stderr).toMatch(/cannot reach ssh:\/\/root@127\.0\.0\.1:1 .*connection refused/);
  }, 240_000);

  test("the boot's 195 results equal what run --kernel reports for the same kernel; preflight in results.json", async () => {
    const sshDir = tempDir();
    const serialDir = tempDir();
    const serial = await runCli(['run', '--kernel', V3('bzImage'), '--accel', 'tcg', '-o', serialDir, '-q'], { env });
    const ssh = await runCli(base(sshDir), { env });
    expect(serial.code, serial.stderr).toBe(1);
    expect(ssh.code, ssh.stderr).toBe(1);
    expect(ssh.stderr).toBe('');
    const s = readJson(serialDir);
    const t = readJson(sshDir);
    expect(t.counts).toEqual(s.counts);
    expect(t.counts).toMatchObject({ total: 195, passed: 187, failed: 1, skipped: 7 });
    expect(t.documents.map((d) => d.tests.map(shape))).toEqual(s.documents.map((d) => d.tests.map(shape)));
    expect(t.metadata).toMatchObject({
      transport: 'ssh',
      targetRelease: '6.12.117',
      targetMachine: 'x86_64',
      targetDebugfs: 'mounted',
      targetSuites: '16',
      ending: 'done',
      hostKeyCheck: 'known',
      hostKey: `ssh-ed25519 ${board.fingerprint}`,
    });
    expect(t.metadata['targetBootId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(consecutive(kmsgSeqs(sshDir))).toBe(true);
    const log = readFileSync(join(sshDir, 'target.log'), 'utf8');
    expect(log).toMatch(/\$ exec cat \/dev\/kmsg\n\[no exit status \(signal SIGTERM\)/); // ended by PID, not left behind
    expect(log).toContain('@release 6.12.117');
  }, 180_000);

  test('--filter example re-runs example through debugfs: a second document', async () => {
    const dir = tempDir();
    const r = await runCli([...base(dir), '--filter', 'example'], { env });
    expect(r.code, r.stderr).toBe(1);
    const j = readJson(dir);
    expect(j.documents).toHaveLength(2);
    expect(j.documents[1]!.origin).toEqual({ kind: 'rerun' });
    expect(j.documents[1]!.tests.map((t) => [t.name, t.status])).toEqual([['example', 'pass']]);
    expect(j.counts.total).toBe(195 + 12);
    const kmsg = readFileSync(join(dir, 'kmsg.log'), 'utf8');
    expect(kmsg).toMatch(/^14,\d+,\d+,-;kunit-bridge: run [0-9a-f]+ step 1 begin rerun example$/m);
    expect(kmsg).toMatch(/^14,\d+,\d+,-;kunit-bridge: run [0-9a-f]+ step 1 end status=0 ms=\d+ $/m);
  }, 120_000);

  test('--modules loads the four modules over SFTP and reports their suites; --repeat 2 gives two attempts', async () => {
    const dir = tempDir();
    const r = await runCli([...base(dir), '--modules', MODULES, '--repeat', '2'], { env });
    expect(r.code, r.stderr).toBe(1);
    reference = readJson(dir);
    const mods = reference.documents.filter((d) => d.origin?.kind === 'module');
    expect(mods.map((d) => [d.origin?.module, d.tests.map((t) => t.name)])).toEqual([
      ['cmdline_kunit.ko', ['cmdline']],
      ['list-test.ko', ['list-kunit-test', 'hlist', 'klist']],
      ['rust_kunit_fixture_mod.ko', ['rust_kunit_fixture_mod']],
    ]);
    expect(reference.diagnostics.map((d) => d.message)).toContain(
      'rust_minimal.ko loaded but ran no KUnit suite (none in it, or all filtered out)',
    );
    const example = reference.documents[0]!.tests.find((t) => t.name === 'example')!;
    expect(example.attempts?.map((a) => a.status)).toEqual(['pass', 'pass']);
    expect(mods[1]!.tests[0]!.attempts).toHaveLength(2);
    // Everything the run did on the target, with exit status: the upload's hash check, insmod, rmmod.
    const log = readFileSync(join(dir, 'target.log'), 'utf8');
    expect(log).toMatch(/\$ sha256sum \/run\/kunit-bridge\.\w+\/list-test\.ko\n[0-9a-f]{64} /);
    expect(log).toMatch(/step \d+ begin rmmod list_test[\s\S]*?\[exit status 0/);
    expect(reference.counts).toMatchObject({ total: 267, passed: 257, failed: 2, skipped: 8 });
  }, 180_000);

  test('the connection cut several times during the run: every record once, in order; the same results', async () => {
    // Budgets above sshd's largest packet (32 KiB): a cut inside every packet would let nothing through.
    const proxy = new CuttingProxy(board.port, [40_000, 40_000, 40_000, 40_000, 40_000]);
    const port = await proxy.listen();
    const kh = join(tempDir(), 'known_hosts');
    writeFileSync(kh, readFileSync(board.knownHosts, 'utf8').replace(`:${board.port} `, `:${port} `));
    const dir = tempDir();
    const r = await runCli([...base(dir, port), '--known-hosts', kh, '--modules', MODULES, '--repeat', '2'], { env });
    proxy.server.close();
    expect(r.code, r.stderr).toBe(1);
    expect(proxy.cuts).toBeGreaterThanOrEqual(3);
    const j = readJson(dir);
    expect(Number(j.metadata['reconnects'])).toBeGreaterThanOrEqual(proxy.cuts - 1);
    expect(j.metadata['kmsgGaps']).toBe('0');
    expect(consecutive(kmsgSeqs(dir))).toBe(true);
    expect(docShapes(j)).toEqual(docShapes(reference));
    expect(j.counts).toEqual(reference.counts);
    expect(readFileSync(join(dir, 'target.log'), 'utf8')).toMatch(/reconnected \(1\); same boot; resuming the kernel log after seq \d+/);
  }, 240_000);

  test('a module of another kernel is refused before insmod; the others load', async () => {
    const dir = tempDir();
    const r = await runCli(
      [...base(dir), '--modules', kernelFixture('arm64-rust-kunit', 'rust_minimal.ko'), '--modules', V3('modules/cmdline_kunit.ko')],
      { env },
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      'rust_minimal.ko was built for "6.12.117 SMP mod_unload aarch64" (aarch64), the target runs 6.12.117 on x86_64 (another machine): not loaded',
    );
    const j = readJson(dir);
    const mods = j.documents.filter((d) => d.origin?.kind === 'module');
    expect(mods.map((d) => d.tests.map((t) => [t.name, t.status]))).toEqual([[['cmdline', 'pass']], [['rust_minimal.ko', 'not-run']]]);
    expect(readFileSync(join(dir, 'target.log'), 'utf8')).not.toMatch(/insmod \S*rust_minimal/);
  }, 120_000);

  test("a target without debugfs: one line that says so; the boot's results; --filter is not-run", async () => {
    expect(board.ssh('umount /sys/kernel/debug && mount -t ramfs -o ro none /sys/kernel').status).toBe(0);
    try {
      const dir = tempDir();
      const r = await runCli([...base(dir), '--filter', 'example'], { env });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr.trim().split('\n')).toEqual([
        'kunit-bridge: debugfs is not mounted and cannot be: KUnit re-runs need it at /sys/kernel/debug with CONFIG_KUNIT_DEBUGFS (--filter, --repeat)',
      ]);
      const j = readJson(dir);
      expect(j.metadata).toMatchObject({ targetDebugfs: 'no', targetProblems: expect.stringContaining('debugfs is not mounted') });
      expect(j.documents[0]!.tests).toHaveLength(17);
      expect(j.documents[1]!.tests[0]).toMatchObject({ name: 'example', status: 'not-run' });
    } finally {
      expect(board.ssh('umount /sys/kernel && mount -t debugfs debugfs /sys/kernel/debug').status).toBe(0);
    }
  }, 120_000);

  test('a step that hangs: --stall-timeout ends it; its remote commands are killed by PID, the target lives on', async () => {
    expect(board.ssh('rm -f /run/kb-fifo; mkfifo /run/kb-fifo').status).toBe(0);
    const dir = tempDir();
    // Nobody reads the FIFO: the write blocks forever.
    const r = await runCli([...base(dir), '--guest-write', '/run/kb-fifo=1', '--stall-timeout', '4'], { env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('no KTAP progress for 4 s (--stall-timeout)');
    const j = readJson(dir);
    expect(j.metadata['ending']).toBe('stall');
    expect(j.counts.total).toBe(195);
    const log = readFileSync(join(dir, 'target.log'), 'utf8');
    const pids = [...log.matchAll(/pid (\d+)\]/g)].map((m) => m[1]);
    expect(log).toMatch(/\$ kill -TERM -\d+ \d+ -\d+ \d+ /); // the cat and the step, with their groups
    const ps = board.ssh('ps -eo pid,args');
    expect(ps.stdout).not.toContain('kb-fifo');
    expect(ps.stdout).not.toMatch(/cat \/dev\/kmsg/);
    expect(pids.length).toBeGreaterThan(2);
    expect(board.ssh('rm -f /run/kb-fifo').status).toBe(0);
  }, 120_000);

  test('a target that stops answering (QEMU stopped): the message and exit 4, within the keepalive and reconnect time', async () => {
    const dir = tempDir();
    const run = startRun([...base(dir), '--repeat', '3', '--reconnect-timeout', '5'], env);
    await waitFor(
      "the run's first step",
      () => existsSync(join(dir, 'kmsg.log')) && /step 2 begin/.test(readFileSync(join(dir, 'kmsg.log'), 'utf8')),
    );
    const stoppedAt = Date.now();
    board.qemu.kill('SIGSTOP');
    let r: CliResult;
    try {
      r = await run.done;
    } finally {
      board.qemu.kill('SIGCONT');
    }
    const took = Date.now() - stoppedAt;
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(
      /the target stopped answering \(Keepalive timeout\); reconnecting for 5 s failed: cannot reach .*no SSH answer within 10 s/,
    );
    expect(took).toBeLessThan(60_000); // keepalive 3 × 2 s, then the reconnect window and one ready timeout
    const j = readJson(dir); // partial results are still written
    expect(j.metadata['ending']).toBe('lost');
    expect(j.counts.total).toBe(195);

    // Stopped before the connection: the ready timeout says so.
    board.qemu.kill('SIGSTOP');
    try {
      await expect(
        runCommand({
          target: target(),
          identities: [board.identity],
          knownHosts: board.knownHosts,
          output: tempDir(),
          sshReadyTimeoutS: 3,
          warn: () => undefined,
        }),
      ).rejects.toMatchObject({ code: 'E_SSH_UNREACHABLE', exitCode: 4, message: expect.stringContaining('no SSH answer within 3 s') });
    } finally {
      board.qemu.kill('SIGCONT');
    }
  }, 180_000);

  test('a panic during a step, then the target boots again: kunit_fault crashed ("target rebooted"), exit 3', async () => {
    const dir = tempDir();
    const keys = { dir: board.dir, identity: board.identity, knownHosts: board.knownHosts, fingerprint: board.fingerprint };
    const run = startRun(
      [...base(dir), '--guest-write', '/proc/sys/kernel/panic_on_oops=1', '--filter', 'kunit_fault', '--reconnect-timeout', '120'],
      env,
    );
    // panic=-1 and -no-reboot: the panic ends QEMU; the "board" comes back with the same keys and port.
    await board.exited;
    board = await bootBoard({ port: board.port, dir: keys });
    const r = await run.done;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('the target rebooted (its boot id changed) during step 2: the rest of the run is not-run');
    const j = readJson(dir);
    expect(j.metadata['ending']).toBe('rebooted');
    const rerun = j.documents.find((d) => d.origin?.kind === 'rerun')!;
    expect(rerun.tests[0]).toMatchObject({ name: 'kunit_fault', status: 'crashed' });
    const crashed = JSON.stringify(rerun);
    expect(crashed).toContain('target rebooted during kunit_fault');
    expect(j.documents[0]!.tests.find((t) => t.name === 'kunit_fault')?.status).toBe('pass'); // the boot's run was before the sysctl
  }, 240_000);

  test('a panic during a step on a target that stays down: kunit_fault crashed, named from the last records, exit 3, no hang', async () => {
    const dir = tempDir();
    const r = await runCli(
      [...base(dir), '--guest-write', '/proc/sys/kernel/panic_on_oops=1', '--filter', 'kunit_fault', '--reconnect-timeout', '3'],
      { env },
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/the connection ended \(.*\) and could not be made again: cannot reach .*; the last kernel log record: "/);
    const j = readJson(dir);
    expect(j.metadata['ending']).toBe('gone');
    const rerun = j.documents.find((d) => d.origin?.kind === 'rerun')!;
    expect(rerun.tests[0]).toMatchObject({ name: 'kunit_fault', status: 'crashed' });
    expect(await board.exited).toBe(0);
  }, 180_000);
});
