/**
 * The runner's end of the agent protocol, with a real WebSocket client on
 * loopback playing the agent.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  AGENT_PROTOCOL_VERSION,
  CLOSE_BAD_FRAME,
  CLOSE_GAP,
  CLOSE_OTHER_BOOT,
  MAX_FRAME_BYTES,
  bootProof,
  type AgentFrame,
  type AgentStep,
  type StepOutcome,
} from '../../../agent/protocol.js';
import { AgentServer, type AgentChannel, type AgentChannelOptions } from '../../../runner/agent/server.js';
import { tempDir } from '../../helpers/cli.js';
import { FakeAgent, closeFakeAgents } from '../../helpers/fake-agent.js';
import { HOSTILE_TARGETS, plain, raw, upgrade } from '../../helpers/raw-http.js';
import { randomFrame, randomRequest } from '../../helpers/agent-fuzz.js';
import { mulberry32 } from '../../helpers/prng.js';
import { withTmpfs } from '../../helpers/tmpfs.js';
import { waitFor } from '../../helpers/wait-for.js';

let server: AgentServer;
let dir: string;
beforeEach(async () => {
  server = await AgentServer.start();
  dir = tempDir('kunit-bridge-agent-server-');
});
afterEach(async () => {
  closeFakeAgents();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A channel, with the guest's boot proof (as the lane takes it from the serial console) for `boot`
 * unless it is null; the warnings it gave.
 */
function open(
  opts: Partial<AgentChannelOptions> = {},
  boot: string | null = 'boot-1',
): {
  channel: AgentChannel;
  received: string[][];
  logPath: string;
  warnings: string[];
} {
  const received: string[][] = [];
  const warnings: string[] = [];
  const logPath = join(dir, `agent-${Math.random().toString(36).slice(2)}.log`);
  const channel = server.open({ logPath, onLines: (l) => received.push(l), next: () => undefined, warn: (m) => warnings.push(m), ...opts });
  if (boot !== null) channel.proveBoot(bootProof(boot));
  return { channel, received, logPath, warnings };
}
const hello = (boot = 'boot-1'): AgentFrame => ({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot, next: 1, uptime: 1, node: 'v20' });
const lines = (from: number, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `[    1.${String(from + i).padStart(6, '0')}] line ${from + i}`);

describe('AgentServer: connections', () => {
  test('a wrong token, or the right one on another path, is refused with 401', async () => {
    const { channel } = open();
    await expect(FakeAgent.connect(server.port, 'not-the-token')).rejects.toThrow(/401/);
    await expect(FakeAgent.connect(server.port, channel.token, '/feed')).rejects.toThrow(/401/);
    expect(channel.connects).toBe(0);
    const a = await FakeAgent.connect(server.port, channel.token);
    expect(channel.connects).toBe(0); // counted when welcomed
    expect(await a.request(hello())).toMatchObject({ t: 'welcome' });
    expect(channel.connects).toBe(1);
    a.ws.close();
  });

  test('a released channel is refused', async () => {
    const { channel } = open();
    server.release(channel);
    await expect(FakeAgent.connect(server.port, channel.token)).rejects.toThrow(/401/);
  });

  test('two guests, two tokens: each channel has its own lines', async () => {
    const one = open();
    const two = open();
    expect(one.channel.token).not.toBe(two.channel.token);
    const a = (await FakeAgent.hello(server.port, one.channel.token)).agent;
    const b = (await FakeAgent.hello(server.port, two.channel.token)).agent;
    await a.request({ t: 'lines', from: 1, lines: ['a1'] });
    await b.request({ t: 'lines', from: 1, lines: ['b1', 'b2'] });
    expect(one.received).toEqual([['a1']]);
    expect(two.received).toEqual([['b1', 'b2']]);
  });
});

describe('AgentChannel: lines', () => {
  test('hello → welcome with have 0; lines → ack; each new line is handed on and logged once', async () => {
    const onHello = vi.fn();
    const { channel, received, logPath } = open({ onHello });
    expect(readFileSync(logPath, 'utf8')).toBe('');
    const { agent, welcome } = await FakeAgent.hello(server.port, channel.token);
    expect(welcome).toEqual({ t: 'welcome', v: AGENT_PROTOCOL_VERSION, have: 0 });
    expect(onHello).toHaveBeenCalledWith(expect.objectContaining({ t: 'hello', boot: 'boot-1' }));
    expect(channel.connected).toBe(true);
    expect(channel.firstHelloAt).toBeTypeOf('number');

    expect(await agent.request({ t: 'lines', from: 1, lines: lines(1, 3) })).toEqual({ t: 'ack', n: 3 });
    // Lines 2..3 again (a resend after a lost ack) and 4..5: only 4..5 are new.
    expect(await agent.request({ t: 'lines', from: 2, lines: lines(2, 4) })).toEqual({ t: 'ack', n: 5 });
    // All held already.
    expect(await agent.request({ t: 'lines', from: 1, lines: lines(1, 2) })).toEqual({ t: 'ack', n: 5 });
    expect(received).toEqual([lines(1, 3), lines(4, 2)]);
    expect(channel.have).toBe(5);
    expect(channel.duplicates).toBe(2 + 2);
    expect(readFileSync(logPath, 'utf8')).toBe(`${lines(1, 5).join('\n')}\n`);
    // An ack on request.
    expect(await agent.request({ t: 'sync' })).toEqual({ t: 'ack', n: 5 });
  });

  test('a gap closes the connection with 4002; on the next one the welcome says what is held', async () => {
    const { channel, received, logPath } = open();
    const first = (await FakeAgent.hello(server.port, channel.token)).agent;
    await first.request({ t: 'lines', from: 1, lines: lines(1, 4) });
    first.send({ t: 'lines', from: 6, lines: lines(6, 1) });
    expect(await first.closed).toBe(CLOSE_GAP);
    expect(channel.have).toBe(4);
    const { agent, welcome } = await FakeAgent.hello(server.port, channel.token);
    expect(welcome).toMatchObject({ t: 'welcome', have: 4 });
    expect(await agent.request({ t: 'lines', from: 5, lines: lines(5, 2) })).toEqual({ t: 'ack', n: 6 });
    expect(received.flat()).toEqual(lines(1, 6));
    expect(readFileSync(logPath, 'utf8').split('\n').filter(Boolean)).toEqual(lines(1, 6));
    expect(channel.connects).toBe(2);
  });

  test('a hello from another boot closes with 4003 and leaves the channel as it was', async () => {
    const { channel, warnings } = open({}, 'boot-A');
    const first = (await FakeAgent.hello(server.port, channel.token, 'boot-A')).agent;
    await first.request({ t: 'lines', from: 1, lines: ['x'] });
    first.ws.close();
    const other = await FakeAgent.connect(server.port, channel.token);
    other.send({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot: 'boot-B', next: 1, uptime: 1, node: 'v20' });
    expect(await other.closed).toBe(CLOSE_OTHER_BOOT);
    expect(channel.boot).toBe('boot-A');
    expect((await FakeAgent.hello(server.port, channel.token, 'boot-A')).welcome).toMatchObject({ have: 1 });
    expect(warnings).toEqual([
      expect.stringMatching(
        /^the agent's channel refused a peer that said hello for another boot than the guest's \(a second peer\): its lines are not used$/,
      ),
    ]);
    expect(channel.refused).toBe(1);
  });

  test('something that is not a frame closes with 4004', async () => {
    const { channel } = open();
    const a = await FakeAgent.connect(server.port, channel.token);
    a.send('{"no": "type"}');
    expect(await a.closed).toBe(CLOSE_BAD_FRAME);
    const b = await FakeAgent.connect(server.port, channel.token);
    b.send('not json');
    expect(await b.closed).toBe(CLOSE_BAD_FRAME);
  });

  test('a new connection replaces the old one', async () => {
    const { channel } = open();
    const first = (await FakeAgent.hello(server.port, channel.token)).agent;
    const second = (await FakeAgent.hello(server.port, channel.token)).agent;
    expect(await first.closed).toBe(1006); // terminated, no close frame
    expect(await second.request({ t: 'lines', from: 1, lines: ['a'] })).toEqual({ t: 'ack', n: 1 });
    expect(channel.connected).toBe(true);
    second.ws.close();
    await second.closed;
    await waitFor(() => !channel.connected, { what: 'the channel to see the close' });
  });

  test('cutEveryLines cuts the connection: first before storing the frame, then after storing it unacked', async () => {
    const { channel, received, logPath } = open({ cutEveryLines: 3 });
    const a = (await FakeAgent.hello(server.port, channel.token)).agent;
    expect(await a.request({ t: 'lines', from: 1, lines: lines(1, 2) })).toEqual({ t: 'ack', n: 2 });
    a.send({ t: 'lines', from: 3, lines: lines(3, 2) }); // the 3rd and 4th line on this connection: cut, not stored
    expect(await a.closed).toBe(1006);
    expect(channel.have).toBe(2);

    const b = await FakeAgent.hello(server.port, channel.token);
    expect(b.welcome).toMatchObject({ have: 2 });
    b.agent.send({ t: 'lines', from: 3, lines: lines(3, 3) }); // stored, then cut before the ack
    expect(await b.agent.closed).toBe(1006);
    expect(channel.have).toBe(5);

    const c = await FakeAgent.hello(server.port, channel.token);
    expect(c.welcome).toMatchObject({ have: 5 });
    expect(await c.agent.request({ t: 'lines', from: 6, lines: lines(6, 1) })).toEqual({ t: 'ack', n: 6 });
    expect(channel.cuts).toBe(2);
    expect(channel.duplicates).toBe(0);
    expect(received.flat()).toEqual(lines(1, 6));
    expect(readFileSync(logPath, 'utf8')).toBe(`${lines(1, 6).join('\n')}\n`);
  });
});

describe('AgentChannel: the agent log', () => {
  test('is created fresh: a symlink planted at its path is replaced, never written through', async () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const logPath = join(dir, 'agent.log');
    symlinkSync(victim, logPath);
    const channel = server.open({ logPath, onLines: () => {}, next: () => undefined });
    channel.proveBoot(bootProof('boot-1'));
    const { agent } = await FakeAgent.hello(server.port, channel.token);
    expect(await agent.request({ t: 'lines', from: 1, lines: lines(1, 2) })).toEqual({ t: 'ack', n: 2 });
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readFileSync(logPath, 'utf8')).toBe(`${lines(1, 2).join('\n')}\n`);
  });

  test('a full disk: one warning, and the lines still go on to the parser and are acked', async () => {
    const full = join(dir, 'full');
    await withTmpfs(full, { fill: ['out'] }, async () => {
      const logPath = join(full, 'out', 'agent.log');
      const { channel, received, warnings } = open({ logPath });
      const { agent } = await FakeAgent.hello(server.port, channel.token);
      const long = (from: number): string[] => lines(from, 50).map((l) => l + ' '.repeat(200));
      expect(await agent.request({ t: 'lines', from: 1, lines: long(1) })).toEqual({ t: 'ack', n: 50 });
      expect(await agent.request({ t: 'lines', from: 51, lines: long(51) })).toEqual({ t: 'ack', n: 100 });
      expect(received.flat()).toEqual([...long(1), ...long(51)]);
      expect(warnings).toEqual([
        `writing the agent's log ${logPath} failed: no space left on the device (free some space, or choose another output directory); it stops before line 1 (the results are not affected)`,
      ]);
      expect(channel.refused).toBe(0);
      expect([...long(1), ...long(51)].join('\n').startsWith(readFileSync(logPath, 'utf8'))).toBe(true);
      agent.ws.close();
      await agent.closed;
      server.release(channel);
    });
  });

  test('cannot be created: E_LOG_WRITE naming the file and why, and no token file is left', async () => {
    const ro = join(dir, 'ro');
    const { channel } = open();
    await withTmpfs(ro, { readOnly: true }, async () => {
      const logPath = join(ro, 'agent.log');
      expect(() => server.open({ logPath, onLines: () => {}, next: () => undefined })).toThrow(
        expect.objectContaining({
          code: 'E_LOG_WRITE',
          message: `cannot create the agent's log ${logPath}: read-only file system (choose a writable directory)`,
        }),
      );
    });
    expect(readdirSync(dirname(channel.tokenFile))).toEqual([basename(channel.tokenFile)]);
  });
});

describe('AgentChannel: steps', () => {
  const plan: AgentStep[] = [
    { op: 'insmod', path: '/m/a.ko' },
    { op: 'run', suite: 's' },
  ];

  test('ready → the next step; a ready for the step before → the same step again; then done, and done again', async () => {
    const next = vi.fn((after: number, _outcome: StepOutcome | undefined): AgentStep | undefined => plan[after]);
    const { channel } = open({ next });
    const a = (await FakeAgent.hello(server.port, channel.token)).agent;

    expect(await a.request({ t: 'ready', after: 0 })).toEqual({ t: 'step', id: 1, step: plan[0] });
    expect(next).toHaveBeenLastCalledWith(0, undefined);
    // The agent never got it (a lost connection): it asks again.
    expect(await a.request({ t: 'ready', after: 0 })).toEqual({ t: 'step', id: 1, step: plan[0] });
    expect(next).toHaveBeenCalledTimes(1);

    const outcome: StepOutcome = { status: 0, ms: 12 };
    expect(await a.request({ t: 'ready', after: 1, outcome })).toEqual({ t: 'step', id: 2, step: plan[1] });
    expect(next).toHaveBeenLastCalledWith(1, outcome);

    // A new connection: the step handed out is handed out again, not a new one.
    a.ws.close();
    const b = (await FakeAgent.hello(server.port, channel.token)).agent;
    expect(await b.request({ t: 'ready', after: 1, outcome })).toEqual({ t: 'step', id: 2, step: plan[1] });
    expect(next).toHaveBeenCalledTimes(2);

    // A stale ready (no step 7 was handed out): no answer, the next frame is the ack.
    b.send({ t: 'ready', after: 7 });
    expect(await b.request({ t: 'sync' })).toEqual({ t: 'ack', n: 0 });
    expect(next).toHaveBeenCalledTimes(2);

    expect(await b.request({ t: 'ready', after: 2, outcome: { status: 1, ms: 0, missing: true } })).toEqual({ t: 'done' });
    expect(next).toHaveBeenLastCalledWith(2, { status: 1, ms: 0, missing: true });
    expect(await b.request({ t: 'ready', after: 2 })).toEqual({ t: 'done' });
    expect(await b.request({ t: 'ready', after: 0 })).toEqual({ t: 'done' });
    expect(next).toHaveBeenCalledTimes(3);
    expect(channel.finished).toBe(false);
  });

  test('bye: the channel is finished, with the summary; the runner says bye', async () => {
    const { channel } = open();
    const a = (await FakeAgent.hello(server.port, channel.token)).agent;
    expect(await a.request({ t: 'ready', after: 0 })).toEqual({ t: 'done' });
    expect(await a.request({ t: 'bye', last: 0, summary: 'lines=0 connects=1' })).toEqual({ t: 'bye' });
    expect(channel.finished).toBe(true);
    expect(channel.summary).toBe('lines=0 connects=1');
  });
});

describe('AgentServer: hostile requests', () => {
  test.each(HOSTILE_TARGETS.map((t) => [t.slice(0, 40), t]))(
    'target %s, as a plain request and as an upgrade: an HTTP answer, and the server goes on',
    async (_name, target) => {
      const { channel } = open();
      expect(await raw(server.port, plain(target))).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(await raw(server.port, upgrade(target))).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(channel.connects).toBe(0);
      expect((await FakeAgent.hello(server.port, channel.token)).welcome).toMatchObject({ t: 'welcome' });
    },
  );

  test('the right token from a web page (an Origin header) gets 403; the agent sends none', async () => {
    const { channel } = open();
    expect(await raw(server.port, upgrade(`/agent?token=${channel.token}`, 'Origin: http://evil.example\r\n'))).toMatch(/^HTTP\/1\.1 403 /);
    expect(await raw(server.port, upgrade(`/agent?token=${channel.token}`))).toMatch(/^HTTP\/1\.1 101 /);
  });

  test('broken HTTP and bad upgrades get an answer or a close, never a throw', async () => {
    const { channel } = open();
    for (const req of [
      '\r\n\r\n',
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      `GET /agent?token=${channel.token} HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      upgrade(`/agent?token=${channel.token}`).replace('Version: 13', 'Version: 99'),
      `POST /agent?token=${channel.token} HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      `GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(5000)}\r\n`,
    ]) {
      expect(await raw(server.port, req), JSON.stringify(req.slice(0, 60))).toMatch(/^(HTTP\/1\.1 4\d\d |$)/);
    }
    expect((await FakeAgent.hello(server.port, channel.token)).welcome).toMatchObject({ t: 'welcome' });
  });

  test('stop() ends connections that never said hello or never finished a request', async () => {
    const { channel } = open();
    const idle = await FakeAgent.connect(server.port, channel.token);
    const half = connect(server.port, '127.0.0.1', () => half.write('GET / HTTP/1.1\r\n'));
    half.on('error', () => {});
    const halfClosed = new Promise((r) => half.once('close', r));
    await waitFor(() => server.openConnections === 2, { what: 'the server to hold both connections' });
    await server.stop();
    expect(await idle.closed).toBe(1006);
    await halfClosed;
    server = await AgentServer.start(); // for afterEach
  });
});

describe('AgentChannel: one guest, one boot', () => {
  test('the token is in a 0600 file in a 0700 directory until the first welcome; release and stop remove what is left', async () => {
    const { channel } = open();
    expect(readFileSync(channel.tokenFile, 'utf8')).toBe(channel.token);
    expect(statSync(channel.tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(channel.tokenFile)).mode & 0o777).toBe(0o700);
    const { agent } = await FakeAgent.hello(server.port, channel.token);
    expect(existsSync(channel.tokenFile)).toBe(false);
    // The agent holds the token: it resumes without the file.
    agent.ws.close();
    expect((await FakeAgent.hello(server.port, channel.token)).welcome).toMatchObject({ t: 'welcome' });

    const never = open().channel;
    expect(existsSync(never.tokenFile)).toBe(true);
    server.release(never);
    expect(existsSync(never.tokenFile)).toBe(false);
    const left = open().channel;
    await server.stop();
    expect(existsSync(dirname(left.tokenFile))).toBe(false);
    server = await AgentServer.start();
  });

  test('a peer that says hello before the guest proved its boot waits; when the proof comes it is refused (4003) and the agent is welcomed', async () => {
    const { channel, received, warnings } = open({}, null);
    const forger = await FakeAgent.connect(server.port, channel.token);
    forger.send(hello('forged-boot'));
    const eager = await FakeAgent.connect(server.port, channel.token);
    eager.send(hello('forged-boot-2'));
    eager.send({ t: 'lines', from: 1, lines: ['KTAP version 1', '1..1', 'ok 1 forged'] }); // before any welcome
    expect(await eager.closed).toBe(CLOSE_BAD_FRAME);
    const agent = await FakeAgent.connect(server.port, channel.token);
    agent.send(hello('real-boot'));
    await waitFor(() => channel.waiting === 2, { what: "the forger's and the agent's hellos to wait for the proof" });
    expect(channel.firstHelloAt).toBeUndefined(); // nobody is welcomed before the proof
    expect(existsSync(channel.tokenFile)).toBe(true);

    channel.proveBoot(bootProof('real-boot'));
    expect(await agent.next()).toEqual({ t: 'welcome', v: AGENT_PROTOCOL_VERSION, have: 0 });
    expect(await forger.closed).toBe(CLOSE_OTHER_BOOT);
    expect(await agent.request({ t: 'lines', from: 1, lines: ['real'] })).toEqual({ t: 'ack', n: 1 });
    expect(received).toEqual([['real']]);
    expect(channel.boot).toBe('real-boot');
    expect(channel.refused).toBe(2);
    expect(warnings).toEqual([
      "the agent's channel refused a frame before the connection was welcomed",
      "the agent's channel refused a peer that said hello for another boot than the guest's (not the one the agent proved on the serial console): its lines are not used",
    ]);
  });

  test("a second peer after the bind is refused at its hello; the agent's connection and lines are untouched; a warning once per kind", async () => {
    const { channel, received, warnings } = open();
    const { agent } = await FakeAgent.hello(server.port, channel.token);
    await agent.request({ t: 'lines', from: 1, lines: ['one'] });
    for (const boot of ['other', 'another']) {
      const peer = await FakeAgent.connect(server.port, channel.token);
      peer.send(hello(boot));
      peer.send({ t: 'lines', from: 2, lines: ['forged'] });
      expect(await peer.closed).toBe(CLOSE_OTHER_BOOT);
    }
    expect(await agent.request({ t: 'lines', from: 2, lines: ['two'] })).toEqual({ t: 'ack', n: 2 });
    expect(received.flat()).toEqual(['one', 'two']);
    expect(channel.connects).toBe(1);
    expect(channel.refused).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  test('frames before the hello, a second hello, another protocol version: 4004', async () => {
    const { channel, warnings } = open();
    for (const f of [
      { t: 'lines', from: 1, lines: ['x'] },
      { t: 'ready', after: 0 },
      { t: 'bye', last: 0, summary: '' },
      { t: 'sync' },
    ] as AgentFrame[]) {
      const a = await FakeAgent.connect(server.port, channel.token);
      a.send(f);
      expect(await a.closed, f.t).toBe(CLOSE_BAD_FRAME);
    }
    const { agent } = await FakeAgent.hello(server.port, channel.token);
    agent.send(hello());
    expect(await agent.closed).toBe(CLOSE_BAD_FRAME);
    const v2 = await FakeAgent.connect(server.port, channel.token);
    v2.send({ ...hello(), v: 2 } as AgentFrame);
    expect(await v2.closed).toBe(CLOSE_BAD_FRAME);
    expect(channel.have).toBe(0);
    expect(channel.finished).toBe(false);
    expect(warnings).toContain("the agent's channel refused a second hello on one connection");
    expect(warnings).toContain("the agent's channel refused a hello for protocol version 2 (this runner speaks 1)");
    expect(warnings.length).toBeLessThanOrEqual(5);
  });

  test('hellos waiting for the proof are bounded', async () => {
    const { channel } = open({}, null);
    const waiting: FakeAgent[] = [];
    for (let i = 0; i < 8; i++) {
      const a = await FakeAgent.connect(server.port, channel.token);
      a.send(hello(`w${i}`));
      waiting.push(a);
    }
    const ninth = await FakeAgent.connect(server.port, channel.token);
    ninth.send(hello('w8'));
    expect(await ninth.closed).toBe(CLOSE_OTHER_BOOT);
    channel.proveBoot(bootProof('w3'));
    expect(await waiting[3]!.next()).toMatchObject({ t: 'welcome' });
    for (const i of [0, 7]) expect(await waiting[i]!.closed).toBe(CLOSE_OTHER_BOOT);
  });
});

describe('AgentChannel: malformed frames after the welcome', () => {
  const BAD: [string, string | Buffer, RegExp][] = [
    ['lines not an array', '{"t":"lines","from":1,"lines":"KTAP version 1"}', /lines frame: lines: not an array/],
    ['from missing', '{"t":"lines","lines":["x"]}', /lines frame: from: missing/],
    ['from a string', '{"t":"lines","from":"1","lines":["x"]}', /lines frame: from: not an integer >= 1/],
    ['a line not a string', '{"t":"lines","from":1,"lines":[{"toString":1}]}', /lines frame: lines: line 0: not a string/],
    ['after a string', '{"t":"ready","after":"0"}', /ready frame: after: not an integer >= 0/],
    ['outcome not an object', '{"t":"ready","after":0,"outcome":[]}', /ready frame: outcome: not an object/],
    ['bye without summary', '{"t":"bye","last":0}', /bye frame: summary: missing/],
    ['an unknown type', '{"t":"welcome","v":1,"have":0}', /not a frame \(t: unknown "welcome"\)/],
    ['null', 'null', /not a frame \(not an object\)/],
    ['not JSON', '{"t":"lines",', /not JSON/],
    ['a binary frame', Buffer.from('{"t":"sync"}'), /a binary frame/],
  ];

  test.each(BAD)('%s: closed with 4004 and a warning; nothing stored; the agent resumes', async (_name, data, warning) => {
    const { channel, received, warnings } = open();
    const { agent } = await FakeAgent.hello(server.port, channel.token);
    await agent.request({ t: 'lines', from: 1, lines: ['one'] });
    agent.ws.send(data);
    expect(await agent.closed).toBe(CLOSE_BAD_FRAME);
    expect(warnings).toEqual([expect.stringMatching(warning)]);
    expect(warnings[0]).toMatch(/^the agent's channel refused a frame: /);
    const again = await FakeAgent.hello(server.port, channel.token);
    expect(again.welcome).toMatchObject({ have: 1 });
    expect(await again.agent.request({ t: 'lines', from: 2, lines: ['two'] })).toEqual({ t: 'ack', n: 2 });
    expect(received.flat()).toEqual(['one', 'two']);
    expect(channel.finished).toBe(false);
  });

  test('a frame over the size limit: closed (1009) with a warning', async () => {
    const { channel, warnings } = open();
    const { agent } = await FakeAgent.hello(server.port, channel.token);
    agent.ws.send(JSON.stringify({ t: 'lines', from: 1, lines: ['x'.repeat(MAX_FRAME_BYTES)] }));
    expect(await agent.closed).toBe(1009);
    expect(warnings).toEqual([expect.stringMatching(/^the agent's channel refused a frame: .*payload/i)]);
    expect(channel.have).toBe(0);
  });
});

describe('AgentServer: fuzz (seeded, bounded)', () => {
  test.each([1, 2, 3])(
    'seed %i: 150 random request heads and 150 peers with random frames, then the agent works and nothing forged is held',
    async (seed) => {
      const rng = mulberry32(seed);
      const { channel, received } = open();
      const started = Date.now();
      const heads = await Promise.all(Array.from({ length: 150 }, () => raw(server.port, randomRequest(rng, channel.token))));
      for (const h of heads) expect(h).toMatch(/^(HTTP\/1\.1 (101|4\d\d) |$)/);
      for (let i = 0; i < 150; i++) {
        const peer = await FakeAgent.connect(server.port, channel.token);
        for (let k = 0; k < 1 + rng.int(3); k++) peer.send(randomFrame(rng));
        peer.send({ t: 'lines', from: 1, lines: ['forged'] });
        expect([CLOSE_BAD_FRAME, CLOSE_OTHER_BOOT, 1002, 1007, 1009]).toContain(await peer.closed);
      }
      expect(Date.now() - started).toBeLessThan(60_000);
      const { agent } = await FakeAgent.hello(server.port, channel.token);
      expect(await agent.request({ t: 'lines', from: 1, lines: ['real'] })).toEqual({ t: 'ack', n: 1 });
      expect(received).toEqual([['real']]);
      expect(channel.connects).toBe(1);
    },
    90_000,
  );
});
