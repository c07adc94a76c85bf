/**
 * AgentLane: the steps a guest is handed (writes, the glob reset of a
 * module-only lane, modules from a queue shared by lanes, then re-runs in
 * attempt-major order), and the hello deadline. A real AgentServer, with
 * fake agents on loopback.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  AGENT_PROTOCOL_VERSION,
  CLOSE_OTHER_BOOT,
  bootProofLine,
  type AgentStep,
  type RunnerFrame,
  type StepOutcome,
} from '../../../agent/protocol.js';
import { AgentLane, ModuleQueue, type AgentLaneOptions } from '../../../runner/agent/lane.js';
import { AgentServer } from '../../../runner/agent/server.js';
import { emptyCounts, type KtapEvent, type TestNode } from '../../../runner/ktap/model.js';
import { tempDir } from '../../helpers/cli.js';
import { FakeAgent, closeFakeAgents } from '../../helpers/fake-agent.js';
import { waitFor } from '../../helpers/wait-for.js';

let server: AgentServer;
let dir: string;
beforeEach(async () => {
  server = await AgentServer.start();
  dir = tempDir('kunit-bridge-agent-lane-');
});
afterEach(async () => {
  closeFakeAgents();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

let lanes = 0;
/** A lane whose console has shown the agent's proof for `boot` (unless null). */
function lane(
  opts: Partial<AgentLaneOptions>,
  queue: ModuleQueue,
  boot: string | null = 'boot-1',
): { lane: AgentLane; failed: () => boolean; docs: { n: number } } {
  const l = new AgentLane({ server, logPath: join(dir, `agent-${++lanes}.log`), modules: queue, helloTimeoutMs: 5000, ...opts });
  const docs = { n: 0 };
  let failed = false;
  l.hooks().attach({
    lines: () => {},
    documents: () => docs.n,
    fail: () => {
      failed = true;
    },
  });
  if (boot !== null) l.hooks().consoleLine(bootProofLine(boot));
  return { lane: l, failed: () => failed, docs };
}
const suiteEnd = (name: string): KtapEvent => ({
  type: 'test-end',
  path: [name],
  document: 0,
  test: { name, status: 'pass', log: [], children: [], attributes: {}, line: 1 } satisfies TestNode,
});

/** Walk a fake agent through its steps: the list of steps it was handed until `done`. */
async function steps(
  agent: FakeAgent,
  outcome: (s: AgentStep) => StepOutcome = () => ({ status: 0, ms: 1 }),
  max = 50,
): Promise<AgentStep[]> {
  const got: AgentStep[] = [];
  let f: RunnerFrame = await agent.request({ t: 'ready', after: 0 });
  while (f.t === 'step' && got.length < max) {
    got.push(f.step);
    f = await agent.request({ t: 'ready', after: f.id, outcome: outcome(f.step) });
  }
  expect(f.t).toBe('done');
  return got;
}

describe('AgentLane: steps', () => {
  test('writes first, then the modules, then attempts 2..N of every suite, attempt by attempt', async () => {
    const queue = new ModuleQueue(['/m/a.ko', '/m/b.ko']);
    const { lane: l } = lane({ repeat: 3, writes: [['/proc/sys/kernel/panic_on_oops', '1']] }, queue);
    for (const s of ['example_init', 'alpha', 'beta']) l.onEvent(suiteEnd(s));
    const { agent } = await FakeAgent.hello(server.port, l.channel.token);
    // example_init has no debugfs run file: after it is reported missing once, it is not tried again.
    const got = await steps(agent, (s) =>
      s.op === 'run' && s.suite === 'example_init' ? { status: 1, ms: 0, missing: true } : { status: 0, ms: 1 },
    );
    expect(got).toEqual([
      { op: 'write', path: '/proc/sys/kernel/panic_on_oops', value: '1' },
      { op: 'insmod', path: '/m/a.ko' },
      { op: 'insmod', path: '/m/b.ko' },
      { op: 'run', suite: 'example_init' },
      { op: 'run', suite: 'alpha' },
      { op: 'run', suite: 'beta' },
      { op: 'run', suite: 'alpha' },
      { op: 'run', suite: 'beta' },
    ]);
    expect(l.steps.filter((s) => s.step.op === 'run').map((s) => s.attempt)).toEqual([2, 2, 2, 3, 3]);
    expect(queue.left).toEqual([]);
  });

  test('two lanes share one module queue; a module-only lane sets the glob back first', async () => {
    const queue = new ModuleQueue(['/m/a.ko', '/m/b.ko', '/m/c.ko']);
    const one = lane({}, queue).lane;
    const two = lane({ resetGlob: '*' }, queue).lane;
    const a = (await FakeAgent.hello(server.port, one.channel.token)).agent;
    const b = (await FakeAgent.hello(server.port, two.channel.token)).agent;
    // Interleaved as two guests would be: each takes the next module when it is ready.
    const a1 = await a.request({ t: 'ready', after: 0 });
    const b1 = await b.request({ t: 'ready', after: 0 });
    const b2 = await b.request({ t: 'ready', after: 1, outcome: { status: 0, ms: 1 } });
    const a2 = await a.request({ t: 'ready', after: 1, outcome: { status: 0, ms: 1 } });
    const b3 = await b.request({ t: 'ready', after: 2, outcome: { status: 0, ms: 1 } });
    const a3 = await a.request({ t: 'ready', after: 2, outcome: { status: 0, ms: 1 } });
    expect([a1, a2, a3].map((f) => (f.t === 'step' ? f.step : f.t))).toEqual([
      { op: 'insmod', path: '/m/a.ko' },
      { op: 'insmod', path: '/m/c.ko' },
      'done',
    ]);
    expect([b1, b2, b3].map((f) => (f.t === 'step' ? f.step : f.t))).toEqual([
      { op: 'filter_glob', value: '*' },
      { op: 'insmod', path: '/m/b.ko' },
      'done',
    ]);
  });

  test('steps are mapped to the documents printed between being handed out and reported done', async () => {
    const queue = new ModuleQueue(['/m/a.ko']);
    const { lane: l, docs } = lane({}, queue);
    docs.n = 1; // the boot's document
    const { agent } = await FakeAgent.hello(server.port, l.channel.token);
    const s1 = await agent.request({ t: 'ready', after: 0 });
    docs.n = 3; // insmod printed two documents
    await agent.request({ t: 'ready', after: 1, outcome: { status: 0, ms: 5 } });
    expect(l.steps).toEqual([{ id: 1, step: (s1 as { step: AgentStep }).step, firstDoc: 1, endDoc: 3, outcome: { status: 0, ms: 5 } }]);
  });
});

describe('AgentLane: failures', () => {
  // The hello deadline is a timer: fake timers move time on; the sockets stay real.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('no hello within the deadline: the session is told to fail, the reason quotes the console', async () => {
    const { lane: l, failed } = lane({ helloTimeoutMs: 150 }, new ModuleQueue([]));
    l.hooks().consoleLine('[    1.900000] 9pnet_virtio: no channels available for device hostroot');
    await vi.advanceTimersByTimeAsync(149);
    expect(failed()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(failed()).toBe(true);
    expect(l.failure).toBe(
      'no word from the agent within 0.15 s; the console said: 9pnet_virtio: no channels available for device hostroot',
    );
  });

  test('an agent that cannot read its token file: the deadline quotes its error line', async () => {
    const { lane: l, failed } = lane({ helloTimeoutMs: 150 }, new ModuleQueue([]), null);
    l.hooks().consoleLine(
      "kunit-bridge-agent: error: cannot read the token file: ENOENT: no such file or directory, open '/run/x/channel-1.token'",
    );
    await vi.advanceTimersByTimeAsync(150);
    expect(failed()).toBe(true);
    expect(l.failure).toMatch(
      /^no word from the agent within 0.15 s; the console said: kunit-bridge-agent: error: cannot read the token file: ENOENT/,
    );
  });

  test('a hello in time stops the deadline; a stream that ends unfinished is "lost"', async () => {
    const { lane: l, failed } = lane({ helloTimeoutMs: 300 }, new ModuleQueue([]));
    await FakeAgent.hello(server.port, l.channel.token);
    await vi.advanceTimersByTimeAsync(10 * 300);
    expect(failed()).toBe(false);
    l.settle('exited', true);
    expect(l.failure).toBe("the agent's stream ended before its work was done (the kernel panicked)");
    expect(
      l.fold({
        documents: [],
        diagnostics: [],
        counts: emptyCounts(),
        verdict: 'no-ktap',
        lines: 0,
        metadata: {},
      }).metadata,
    ).toMatchObject({ agent: 'lost', agentConnects: '1', agentLines: '0' });
  });

  test('a hello waits for the boot proof on the console; another boot is refused, warned and counted', async () => {
    const warnings: string[] = [];
    const { lane: l, failed } = lane({ helloTimeoutMs: 2000, warn: (m) => warnings.push(m) }, new ModuleQueue([]), null);
    const forger = await FakeAgent.connect(server.port, l.channel.token);
    forger.send({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot: 'forged', next: 1, uptime: 0, node: 'v20' });
    const agent = await FakeAgent.connect(server.port, l.channel.token);
    agent.send({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot: 'real', next: 1, uptime: 3, node: 'v20' });
    await waitFor(() => l.channel.waiting === 2, { what: 'both hellos to wait for the boot proof' });
    expect(l.channel.firstHelloAt).toBeUndefined();
    l.hooks().consoleLine(`kunit-bridge-agent: node v20: up after 1426 ms`);
    l.hooks().consoleLine(bootProofLine('real'));
    expect(await agent.next()).toMatchObject({ t: 'welcome', have: 0 });
    expect(await forger.closed).toBe(CLOSE_OTHER_BOOT);
    await vi.advanceTimersByTimeAsync(10 * 2000);
    expect(failed()).toBe(false); // the hello that bound stopped the deadline
    expect(warnings).toEqual([expect.stringMatching(/^the agent's channel refused a peer that said hello for another boot/)]);
    l.settle('exited');
    expect(
      l.fold({
        documents: [],
        diagnostics: [],
        counts: emptyCounts(),
        verdict: 'no-ktap',
        lines: 0,
        metadata: {},
      }).metadata,
    ).toMatchObject({ agentConnects: '1', agentRefused: '1' });
  });

  test('a hello without the proof on the console never binds: the deadline falls back', async () => {
    const { lane: l, failed } = lane({ helloTimeoutMs: 300 }, new ModuleQueue([]), null);
    const agent = await FakeAgent.connect(server.port, l.channel.token);
    agent.send({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot: 'unproved', next: 1, uptime: 3, node: 'v20' });
    await waitFor(() => l.channel.waiting === 1, { what: 'the hello to wait for the boot proof' });
    await vi.advanceTimersByTimeAsync(300);
    expect(failed()).toBe(true);
    expect(l.channel.connects).toBe(0);
  });

  test('an agent that never connected took no module: they stay in the queue for the others', async () => {
    const queue = new ModuleQueue(['/m/a.ko']);
    const { lane: l } = lane({}, queue);
    l.settle('agent-failed');
    expect(l.failure).toBe('the agent never connected');
    expect(queue.left).toEqual(['/m/a.ko']);
  });
});

describe('AgentLane: progress for the stall timer', () => {
  test("step markers, and init's and the agent's console lines, count; kernel noise does not", () => {
    const hooks = lane({}, new ModuleQueue([])).lane.hooks();
    expect(hooks.isProgress('[    5.028290] kunit-bridge: step 1 begin insmod /m/a.ko')).toBe(true);
    expect(hooks.isProgress('kunit-bridge-init: exec-node 1.72')).toBe(true);
    expect(hooks.isProgress('kunit-bridge-agent: connected 1660 ms after start')).toBe(true);
    expect(hooks.isProgress('[    5.700000] clocksource: Switched to clocksource tsc')).toBe(false);
    expect(hooks.isProgress('[    5.700000] kunit-bridge: done steps=0')).toBe(false);
  });
});
