/** The agent's side of the protocol, played by a real `ws` client on loopback (tests of the runner's end). */
import WebSocket from 'ws';
import { AGENT_PATH, AGENT_PROTOCOL_VERSION, type AgentFrame, type RunnerFrame } from '../../agent/protocol.js';

const clients: WebSocket[] = [];

/** Terminate every connection the fake agents opened (afterEach). */
export function closeFakeAgents(): void {
  for (const ws of clients.splice(0)) ws.terminate();
}

/** The agent's side of one connection. */
export class FakeAgent {
  private readonly frames: RunnerFrame[] = [];
  private readonly waiters: ((f: RunnerFrame) => void)[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as RunnerFrame;
      const w = this.waiters.shift();
      if (w) w(f);
      else this.frames.push(f);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  static connect(port: number, token: string, path = AGENT_PATH): Promise<FakeAgent> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}?token=${encodeURIComponent(token)}`);
    clients.push(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new FakeAgent(ws)));
      ws.once('error', reject);
    });
  }

  send(f: AgentFrame | string): void {
    this.ws.send(typeof f === 'string' ? f : JSON.stringify(f));
  }

  /** The next frame from the runner. */
  next(): Promise<RunnerFrame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame from the runner within 5 s')), 5000);
      this.waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  async request(f: AgentFrame): Promise<RunnerFrame> {
    this.send(f);
    return this.next();
  }

  /** Connect and say hello: the welcome. */
  static async hello(port: number, token: string, boot = 'boot-1'): Promise<{ agent: FakeAgent; welcome: RunnerFrame }> {
    const agent = await FakeAgent.connect(port, token);
    const welcome = await agent.request({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot, next: 1, uptime: 3.2, node: 'v20' });
    return { agent, welcome };
  }
}
