/**
 * The runner's end of the agent protocol, with a real WebSocket client on
 * loopback playing the agent.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  AGENT_PROTOCOL_VERSION, CLOSE_BAD_FRAME, CLOSE_GAP, CLOSE_OTHER_BOOT,
  type AgentFrame, type AgentStep, type RunnerFrame, type StepOutcome,
} from '../../../agent/protocol.js';
import { AgentServer, type AgentChannel, type AgentChannelOptions } from '../../../runner/agent/server.js';
import { tempDir } from '../../helpers/cli.js';
import { FakeAgent, closeFakeAgents } from '../../helpers/fake-agent.js';

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

function open(opts: Partial<AgentChannelOptions> = {}): { channel: AgentChannel; received: string[][]; logPath: string } {
  const received: string[][] = [];
  const logPath = join(dir, `agent-${Math.random().toString(36).slice(2)}.log`);
  const channel = server.open({ logPath, onLines: (l) => received.push(l), next: () => undefined, ...opts });
  return { channel, received, logPath };
}
const lines = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `[    1.${String(from + i).padStart(6, '0')}] line ${from + i}`);

describe('AgentServer: connections', () => {
  test('a wrong token, or the right one on another path, is refused with 401', async () => {
    const { channel } = open();
    await expect(FakeAgent.connect(server.port, 'not-the-token')).rejects.toThrow(/401/);
    await expect(FakeAgent.connect(server.port, channel.token, '/feed')).rejects.toThrow(/401/);
    expect(channel.connects).toBe(0);
    const a = await FakeAgent.connect(server.port, channel.token);
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
    expect(readFileSync(logPath, 'utf8')).toBe(lines(1, 5).join('\n') + '\n');
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
    const { channel } = open();
    const first = (await FakeAgent.hello(server.port, channel.token, 'boot-A')).agent;
    await first.request({ t: 'lines', from: 1, lines: ['x'] });
    first.ws.close();
    const other = await FakeAgent.connect(server.port, channel.token);
    other.send({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot: 'boot-B', next: 1, uptime: 1, node: 'v20' });
    expect(await other.closed).toBe(CLOSE_OTHER_BOOT);
    expect(channel.boot).toBe('boot-A');
    expect((await FakeAgent.hello(server.port, channel.token, 'boot-A')).welcome).toMatchObject({ have: 1 });
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
    for (let i = 0; i < 50 && channel.connected; i++) await new Promise((r) => setTimeout(r, 10));
    expect(channel.connected).toBe(false);
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
    expect(readFileSync(logPath, 'utf8')).toBe(lines(1, 6).join('\n') + '\n');
  });
});

describe('AgentChannel: steps', () => {
  const plan: AgentStep[] = [{ op: 'insmod', path: '/m/a.ko' }, { op: 'run', suite: 's' }];

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
