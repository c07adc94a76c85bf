/**
 * The agent's whole life without a guest: a fake /dev/kmsg and fake steps,
 * against the runner's real AgentServer on loopback.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { runAgent, type AgentDeps } from '../../agent/agent.js';
import { bootProof, bootProofLine, type AgentStep, type StepOutcome } from '../../agent/protocol.js';
import type { GuestOps } from '../../agent/steps.js';
import { AgentServer } from '../../runner/agent/server.js';
import { tempDir } from '../helpers/cli.js';
import { FakeKmsg } from '../helpers/fake-kmsg.js';

let server: AgentServer;
let dir: string;
beforeEach(async () => {
  server = await AgentServer.start();
  dir = tempDir('kunit-bridge-agent-life-');
});
afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const BOOT_ID = '0c9f2a3e-4b1d-4c5e-9f00-1234567890ab';

/** A guest: its files, a kernel log with a boot's records, modules whose insmod prints KTAP. */
function guest(files: Record<string, string>): { deps: AgentDeps; kmsg: FakeKmsg; console: string[]; ran: string[] } {
  const kmsg = new FakeKmsg();
  kmsg.printk('Linux version 6.12.117');
  kmsg.printk('KTAP version 1');
  kmsg.printk('1..0');
  const console: string[] = [];
  const ran: string[] = [];
  const fs = new Map(
    Object.entries({
      '/proc/sys/kernel/random/boot_id': `${BOOT_ID}\n`,
      '/proc/uptime': '3.14 2.00\n',
      '/proc/sys/kernel/printk_devkmsg': 'ratelimit\n',
      ...files,
    }),
  );
  const steps: GuestOps = {
    exists: (p) => fs.has(p),
    writeFile: async (p, d) => {
      ran.push(`write ${p} ${JSON.stringify(d)}`);
    },
    exec: async (cmd, argv) => {
      ran.push(`${cmd} ${argv.join(' ')}`);
      kmsg.printk('    KTAP version 1');
      kmsg.printk('    # Subtest: a');
      kmsg.printk('    ok 1 a_test');
      kmsg.printk('ok 1 a');
      return { status: 0, note: '' };
    },
  };
  const deps: AgentDeps = {
    console: (t) => {
      console.push(t);
    },
    readFile: (p) => {
      const v = fs.get(p);
      if (v === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return v;
    },
    writeFile: (p, d) => {
      fs.set(p, d);
      ran.push(`sysctl ${p} ${JSON.stringify(d)}`);
    },
    openKmsg: () => kmsg,
    steps,
    nodeVersion: 'v20.0.0',
    nodeUptimeMs: () => 1000,
  };
  return { deps, kmsg, console, ran };
}

test.each([
  ['', undefined],
  [', the connection cut every 3 lines (before storing a frame, then after storing it unacked)', 3],
])(
  'reads the log, does the steps between markers, says bye: the runner holds every line once, in order%s',
  async (_, cutEveryLines) => {
    const plan: AgentStep[] = [
      { op: 'insmod', path: '/m/a.ko' },
      { op: 'run', suite: 'example_init' },
    ];
    const outcomes: (StepOutcome | undefined)[] = [];
    const logPath = join(dir, 'agent.log');
    const channel = server.open({
      logPath,
      onLines: () => {},
      next: (after, outcome) => {
        outcomes.push(outcome);
        return plan[after];
      },
      warn: (m) => {
        throw new Error(m);
      },
      ...(cutEveryLines ? { cutEveryLines } : {}),
    });
    channel.proveBoot(bootProof(BOOT_ID));
    const g = guest({ [channel.tokenFile]: `${channel.token}\n`, '/m/a.ko': '' });

    expect(await runAgent({ host: '127.0.0.1', port: server.port, tokenFile: channel.tokenFile }, g.deps)).toBe(0);

    expect(
      readFileSync(logPath, 'utf8')
        .split('\n')
        .map((l) => l.replace(/^\[ *[\d.]+\] /, ''))
        .map((l) => l.replace(/ms=\d+/, 'ms=N')),
    ).toEqual([
      'Linux version 6.12.117',
      'KTAP version 1',
      '1..0',
      'kunit-bridge: step 1 begin insmod /m/a.ko',
      '    KTAP version 1',
      '    # Subtest: a',
      '    ok 1 a_test',
      'ok 1 a',
      'kunit-bridge: step 1 end status=0 ms=N',
      'kunit-bridge: step 2 begin run example_init',
      'kunit-bridge: step 2 end status=1 ms=N "/sys/kernel/debug/kunit/example_init/run does not exist"',
      'kunit-bridge: done steps=2',
      '',
    ]);
    expect(outcomes).toEqual([
      undefined,
      { status: 0, note: '', ms: expect.any(Number) },
      { status: 1, missing: true, note: '/sys/kernel/debug/kunit/example_init/run does not exist', ms: expect.any(Number) },
    ]);
    expect(g.ran).toEqual(['sysctl /proc/sys/kernel/printk_devkmsg "on\\n"', 'insmod /m/a.ko']);
    expect(channel.finished).toBe(true);
    expect(channel.have).toBe(12);
    // A frame cut before it was stored is resent; one stored but not acked is not (the welcome's `have`).
    if (cutEveryLines) expect(channel.cuts).toBeGreaterThanOrEqual(2);
    expect(channel.duplicates).toBe(0);
    const connects = cutEveryLines ? channel.cuts + 1 : 1;
    expect(channel.connects).toBe(connects);
    expect(channel.summary).toMatch(new RegExp(`^lines=12 seq=11 lost=0 connects=${connects} ms=\\d+$`));
    expect(g.kmsg.closed).toBe(true);
    const said = g.console.join('');
    expect(g.console[0]).toBe(`${bootProofLine(BOOT_ID)}\n`);
    expect(said).toContain('kunit-bridge-agent: node v20.0.0: up after 1000 ms; guest uptime 3.14 s\n');
    expect(said).toContain('kunit-bridge-agent: read 3 lines from /dev/kmsg\n');
    expect(said).toMatch(/kunit-bridge-agent: connected \d+ ms after start\n/);
    expect(said.endsWith(`kunit-bridge-agent: ${channel.summary}\n`)).toBe(true);
  },
  20_000,
);

test('without a readable token file: one line on the console, exit code 1, nothing else done', async () => {
  const g = guest({});
  let opened = false;
  g.deps.openKmsg = () => {
    opened = true;
    return g.kmsg;
  };
  expect(await runAgent({ host: '127.0.0.1', port: server.port, tokenFile: '/nonexistent/channel-1.token' }, g.deps)).toBe(1);
  expect(g.console).toEqual([
    "kunit-bridge-agent: error: cannot read the token file: ENOENT: no such file or directory, open '/nonexistent/channel-1.token'\n",
  ]);
  expect(opened).toBe(false);
});
