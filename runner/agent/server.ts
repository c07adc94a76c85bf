/**
 * The runner's end of the agent protocol: a WebSocket server on host
 * loopback (the guest reaches it as 10.0.2.2 through QEMU's user network),
 * one {@link AgentChannel} per guest, told apart by a random token. A
 * channel keeps the lines in order (lines it holds are ignored, a gap closes
 * the connection), appends them to the lane's agent log, acknowledges, and
 * hands out steps when the agent is ready.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  AGENT_PATH, AGENT_PROTOCOL_VERSION, CLOSE_BAD_FRAME, CLOSE_GAP, CLOSE_OTHER_BOOT, parseFrame,
  type AgentFrame, type AgentStep, type RunnerFrame, type StepOutcome,
} from '../../agent/protocol.js';

export interface AgentChannelOptions {
  /** The agent's lines are appended here (created empty). */
  logPath: string;
  /** New lines, in order, each once. */
  onLines: (lines: string[]) => void;
  /** The agent is ready for its next step (`after` finished with `outcome`): the step, or undefined when done. */
  next: (after: number, outcome: StepOutcome | undefined) => AgentStep | undefined;
  onHello?: (hello: AgentFrame & { t: 'hello' }) => void;
  /**
   * Fault injection for tests: cut the TCP connection (no close frame) each time this many
   * lines have arrived on it, alternately before storing the frame and after storing it
   * unacknowledged.
   */
  cutEveryLines?: number;
}

export class AgentChannel {
  readonly token = randomBytes(12).toString('base64url');
  /** Lines 1..have are held. */
  have = 0;
  boot: string | undefined;
  connects = 0;
  cuts = 0;
  /** Lines received again (a resend after a lost ack): ignored. */
  duplicates = 0;
  /** The agent reported every step done and every line delivered. */
  finished = false;
  summary: string | undefined;
  firstHelloAt: number | undefined;
  /** The last step handed out (undefined before the first), and whether "done" was. */
  private issued: { id: number; step: AgentStep } | undefined;
  private doneSent = false;
  private socket: WebSocket | undefined;
  private cutToggle = false;

  constructor(private readonly opts: AgentChannelOptions) {
    writeFileSync(opts.logPath, '');
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** @internal a new WebSocket for this channel. */
  attach(ws: WebSocket): void {
    this.socket?.terminate();
    this.socket = ws;
    this.connects++;
    let received = 0;
    let dead = false;
    const send = (f: RunnerFrame): void => { if (!dead) ws.send(JSON.stringify(f)); };
    const cut = (): void => {
      dead = true;
      this.cuts++;
      ws.terminate();
    };
    ws.on('message', (data) => {
      if (dead) return; // frames read after we cut are lost, as on a real broken connection
      const f = parseFrame<AgentFrame>(String(data));
      if (!f) { ws.close(CLOSE_BAD_FRAME, 'not a frame'); return; }
      switch (f.t) {
        case 'hello':
          if (this.boot !== undefined && f.boot !== this.boot) { ws.close(CLOSE_OTHER_BOOT, 'another boot'); return; }
          this.boot = f.boot;
          this.firstHelloAt ??= Date.now();
          this.opts.onHello?.(f);
          send({ t: 'welcome', v: AGENT_PROTOCOL_VERSION, have: this.have });
          break;
        case 'lines': {
          if (f.from > this.have + 1) { ws.close(CLOSE_GAP, `gap: have ${this.have}, got ${f.from}`); return; }
          received += f.lines.length;
          const cutNow = this.opts.cutEveryLines !== undefined && received >= this.opts.cutEveryLines;
          if (cutNow) this.cutToggle = !this.cutToggle;
          if (cutNow && this.cutToggle) { cut(); return; } // before storing: the agent must resend it
          const fresh = f.lines.slice(Math.max(0, this.have + 1 - f.from));
          this.duplicates += f.lines.length - fresh.length;
          if (fresh.length > 0) {
            appendFileSync(this.opts.logPath, fresh.join('\n') + '\n');
            this.have += fresh.length;
            this.opts.onLines(fresh);
          }
          if (cutNow) { cut(); return; } // stored, not acked: the welcome's `have` must stop a double
          send({ t: 'ack', n: this.have });
          break;
        }
        case 'sync':
          send({ t: 'ack', n: this.have });
          break;
        case 'ready':
          this.ready(f.after, f.outcome, send);
          break;
        case 'bye':
          this.finished = true;
          this.summary = f.summary;
          send({ t: 'bye' });
          break;
      }
    });
    ws.on('close', () => { if (this.socket === ws) this.socket = undefined; });
    ws.on('error', () => { /* the close event follows */ });
  }

  private ready(after: number, outcome: StepOutcome | undefined, send: (f: RunnerFrame) => void): void {
    if (this.doneSent) { send({ t: 'done' }); return; }
    if (this.issued && after === this.issued.id - 1) { send({ t: 'step', ...this.issued }); return; } // it never arrived
    if (this.issued ? after !== this.issued.id : after !== 0) return; // stale
    const step = this.opts.next(after, outcome);
    if (!step) { this.doneSent = true; send({ t: 'done' }); return; }
    this.issued = { id: after + 1, step };
    send({ t: 'step', ...this.issued });
  }

  close(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }
}

export class AgentServer {
  private readonly channels = new Map<string, AgentChannel>();

  private constructor(private readonly http: Server, private readonly wss: WebSocketServer, readonly port: number) {}

  /** Listen on 127.0.0.1, on a free port. */
  static async start(): Promise<AgentServer> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true, maxPayload: 16 << 20 });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (http.address() as { port: number }).port;
    const server = new AgentServer(http, wss, port);
    http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://agent');
      const channel = url.pathname === AGENT_PATH ? server.channels.get(url.searchParams.get('token') ?? '') : undefined;
      if (!channel) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => channel.attach(ws));
    });
    return server;
  }

  open(opts: AgentChannelOptions): AgentChannel {
    const channel = new AgentChannel(opts);
    this.channels.set(channel.token, channel);
    return channel;
  }

  release(channel: AgentChannel): void {
    channel.close();
    this.channels.delete(channel.token);
  }

  async stop(): Promise<void> {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
