/**
 * The runner's end of the agent protocol: a WebSocket server on host
 * loopback (the guest reaches it as 10.0.2.2 through QEMU's user network),
 * one {@link AgentChannel} per guest, told apart by a random token. The
 * token reaches the guest in a 0600 file (in a 0700 directory) it reads over
 * the 9p share, never on a command line; the file is removed once the guest
 * has said hello. A channel is bound to one boot: the first hello whose boot
 * id matches the proof the agent printed on the serial console. Any other
 * peer, and any frame that is not one, is refused with a close code and a
 * warning; nothing a client sends can throw here. A bound channel keeps the
 * lines in order (lines it holds are ignored, a gap closes the connection),
 * appends them to the lane's agent log, acknowledges, and hands out steps
 * when the agent is ready. The log is created fresh (never through a planted
 * link) and written through its descriptor; a failed write is one warning,
 * and the lines go on to the parser.
 */
import { closeSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  AGENT_PATH,
  AGENT_PROTOCOL_VERSION,
  CLOSE_BAD_FRAME,
  CLOSE_GAP,
  CLOSE_OTHER_BOOT,
  MAX_FRAME_BYTES,
  bootProof,
  decodeAgentFrame,
  type AgentFrame,
  type AgentStep,
  type RunnerFrame,
  type StepOutcome,
} from '../../agent/protocol.js';
import { BridgeError, describeFsError } from '../errors.js';
import { openFresh } from '../write-file.js';

type Hello = AgentFrame & { t: 'hello' };

export interface AgentChannelOptions {
  /** The agent's lines are appended here (created empty, exclusively: a file or link there is replaced). */
  logPath: string;
  /** New lines, in order, each once. */
  onLines: (lines: string[]) => void;
  /** The agent is ready for its next step (`after` finished with `outcome`): the step, or undefined when done. */
  next: (after: number, outcome: StepOutcome | undefined) => AgentStep | undefined;
  /** A hello bound the channel or resumed it (the first one is the agent's start). */
  onHello?: (hello: Hello) => void;
  /** The agent said bye: every line is here and every step done (answered before this is called). */
  onBye?: () => void;
  /**
   * One line for each kind of refusal (another boot's hello, a malformed frame): a peer that is not the
   * agent, or a bug; and one if the agent's log cannot be written (a full disk).
   */
  warn?: (message: string) => void;
  /**
   * Fault injection for tests: cut the TCP connection (no close frame) each time this many
   * lines have arrived on it, alternately before storing the frame and after storing it
   * unacknowledged.
   */
  cutEveryLines?: number;
}

/** Hellos waiting for the boot proof, per channel, at most (more are refused). */
const MAX_PENDING = 8;
/** Distinct warnings per channel, at most (the count of refusals goes on in `refused`). */
const MAX_WARNINGS = 5;

/** Constant-time equality of two secrets. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AgentChannel {
  readonly token = randomBytes(16).toString('base64url');
  /** Lines 1..have are held. */
  have = 0;
  /** The boot the channel is bound to (the first hello that matched the console's proof). */
  boot: string | undefined;
  /** Connections welcomed. */
  connects = 0;
  cuts = 0;
  /** Lines received again (a resend after a lost ack): ignored. */
  duplicates = 0;
  /** Connections refused: hellos for another boot, malformed or untimely frames. */
  refused = 0;
  /** The agent reported every step done and every line delivered. */
  finished = false;
  summary: string | undefined;
  firstHelloAt: number | undefined;
  /** The last step handed out (undefined before the first), and whether "done" was. */
  private issued: { id: number; step: AgentStep } | undefined;
  private doneSent = false;
  private socket: WebSocket | undefined;
  private cutToggle = false;
  private proof: string | undefined;
  /** Hellos that came before the proof: each decides once the proof is known. */
  private readonly pending = new Set<() => void>();
  private readonly sockets = new Set<WebSocket>();
  private readonly warned = new Set<string>();
  private tokenFileLive = true;
  /** The agent's log, open until closed or a write fails. */
  private logFd: number | undefined;

  /** @internal use {@link AgentServer.open}. Throws E_LOG_WRITE if the agent's log cannot be created. */
  constructor(
    private readonly opts: AgentChannelOptions,
    readonly tokenFile: string,
  ) {
    try {
      this.logFd = openFresh(opts.logPath);
    } catch (err) {
      throw new BridgeError('E_LOG_WRITE', `cannot create the agent's log ${opts.logPath}: ${describeFsError(err)}`, { cause: err });
    }
    try {
      writeFileSync(tokenFile, this.token, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      this.closeLog();
      throw err;
    }
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** Hellos waiting for the boot proof. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * The boot proof the agent printed on the serial console (`bootProofIn`): hellos for that
   * boot may bind the channel, any other is refused. The first proof counts.
   */
  proveBoot(proof: string): void {
    if (this.proof !== undefined) return;
    this.proof = proof;
    for (const decide of [...this.pending]) decide();
  }

  private warn(message: string): void {
    this.refused++;
    if (this.warned.has(message) || this.warned.size >= MAX_WARNINGS) return;
    this.warned.add(message);
    this.opts.warn?.(`the agent's channel ${message}`);
  }

  /** Append lines to the agent's log. A failure (a full disk) is one warning; the log then stops there. */
  private appendLog(lines: readonly string[]): void {
    if (this.logFd === undefined) return;
    try {
      writeFileSync(this.logFd, `${lines.join('\n')}\n`);
    } catch (err) {
      this.closeLog();
      this.opts.warn?.(
        `writing the agent's log ${this.opts.logPath} failed: ${describeFsError(err, 'free some space, or choose another output directory')}; ` +
          `it stops before line ${this.have + 1} (the results are not affected)`,
      );
    }
  }

  private closeLog(): void {
    if (this.logFd === undefined) return;
    const fd = this.logFd;
    this.logFd = undefined;
    try {
      closeSync(fd);
    } catch {
      // already unusable: nothing more to write
    }
  }

  private removeTokenFile(): void {
    if (!this.tokenFileLive) return;
    this.tokenFileLive = false;
    rmSync(this.tokenFile, { force: true });
  }

  /** @internal a new WebSocket with this channel's token: nothing is trusted until its hello binds. */
  attach(ws: WebSocket): void {
    this.sockets.add(ws);
    let state: 'new' | 'pending' | 'bound' | 'dead' = 'new';
    let received = 0;
    let decide: (() => void) | undefined;
    const send = (f: RunnerFrame): void => {
      if (state === 'bound') ws.send(JSON.stringify(f));
    };
    const refuse = (code: number, reason: string, warning: string): void => {
      if (state === 'dead') return;
      state = 'dead';
      if (decide) this.pending.delete(decide);
      this.warn(warning);
      ws.close(code, reason);
    };
    const cut = (): void => {
      state = 'dead';
      this.cuts++;
      ws.terminate();
    };
    const bind = (hello: Hello): void => {
      if (decide) this.pending.delete(decide);
      state = 'bound';
      if (this.socket !== ws) this.socket?.terminate();
      this.socket = ws;
      this.connects++;
      this.boot = hello.boot;
      this.firstHelloAt ??= Date.now();
      this.removeTokenFile();
      this.opts.onHello?.(hello);
      send({ t: 'welcome', v: AGENT_PROTOCOL_VERSION, have: this.have });
    };
    const hello = (f: Hello): void => {
      if (f.v !== AGENT_PROTOCOL_VERSION) {
        refuse(
          CLOSE_BAD_FRAME,
          'protocol version',
          `refused a hello for protocol version ${f.v} (this runner speaks ${AGENT_PROTOCOL_VERSION})`,
        );
        return;
      }
      const decideNow = (): void => {
        if (state === 'dead') return;
        if (this.boot !== undefined ? sameSecret(f.boot, this.boot) : bootProof(f.boot) === this.proof) bind(f);
        else {
          refuse(
            CLOSE_OTHER_BOOT,
            'another boot',
            `refused a peer that said hello for another boot than the guest's${
              this.boot === undefined ? ' (not the one the agent proved on the serial console)' : ' (a second peer)'
            }: its lines are not used`,
          );
        }
      };
      if (this.proof !== undefined) {
        decideNow();
        return;
      }
      if (this.pending.size >= MAX_PENDING) {
        refuse(CLOSE_OTHER_BOOT, 'too many peers', `refused a peer: ${MAX_PENDING} hellos already wait for the guest's boot proof`);
        return;
      }
      state = 'pending';
      decide = decideNow;
      this.pending.add(decide);
    };
    ws.on('message', (data, isBinary) => {
      if (state === 'dead') return; // frames read after we cut or refused are lost, as on a real broken connection
      const d = isBinary ? { error: 'a binary frame' } : decodeAgentFrame(String(data));
      if (d.error !== undefined) {
        refuse(CLOSE_BAD_FRAME, 'bad frame', `refused a frame: ${d.error}`);
        return;
      }
      const f = d.frame;
      if (f.t === 'hello') {
        if (state === 'new') hello(f);
        else refuse(CLOSE_BAD_FRAME, 'second hello', 'refused a second hello on one connection');
        return;
      }
      if (state !== 'bound') {
        refuse(CLOSE_BAD_FRAME, 'not welcomed', 'refused a frame before the connection was welcomed');
        return;
      }
      switch (f.t) {
        case 'lines': {
          if (f.from > this.have + 1) {
            ws.close(CLOSE_GAP, `gap: have ${this.have}, got ${f.from}`);
            return;
          }
          received += f.lines.length;
          const cutNow = this.opts.cutEveryLines !== undefined && received >= this.opts.cutEveryLines;
          if (cutNow) this.cutToggle = !this.cutToggle;
          if (cutNow && this.cutToggle) {
            cut();
            return;
          } // before storing: the agent must resend it
          const fresh = f.lines.slice(Math.max(0, this.have + 1 - f.from));
          this.duplicates += f.lines.length - fresh.length;
          if (fresh.length > 0) {
            this.appendLog(fresh);
            this.have += fresh.length;
            this.opts.onLines(fresh);
          }
          if (cutNow) {
            cut();
            return;
          } // stored, not acked: the welcome's `have` must stop a double
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
          this.opts.onBye?.();
          break;
      }
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (decide) this.pending.delete(decide);
      state = 'dead';
      if (this.socket === ws) this.socket = undefined;
    });
    ws.on('error', (e: Error & { code?: string }) => {
      // The protocol's own errors (an oversize or invalid frame): ws closes with its code (1009, 1002, …).
      if (e.code?.startsWith('WS_ERR_') && state !== 'dead') {
        if (decide) this.pending.delete(decide);
        state = 'dead';
        this.warn(`refused a frame: ${e.message}`);
      }
    });
  }

  private ready(after: number, outcome: StepOutcome | undefined, send: (f: RunnerFrame) => void): void {
    if (this.doneSent) {
      send({ t: 'done' });
      return;
    }
    if (this.issued && after === this.issued.id - 1) {
      send({ t: 'step', ...this.issued });
      return;
    } // it never arrived
    if (this.issued ? after !== this.issued.id : after !== 0) return; // stale
    const step = this.opts.next(after, outcome);
    if (!step) {
      this.doneSent = true;
      send({ t: 'done' });
      return;
    }
    this.issued = { id: after + 1, step };
    send({ t: 'step', ...this.issued });
  }

  /** @internal is `token` this channel's? (constant time) */
  owns(token: string): boolean {
    return sameSecret(token, this.token);
  }

  close(): void {
    this.removeTokenFile();
    this.closeLog();
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.pending.clear();
    this.socket = undefined;
  }
}

/** What a request target asks for: a path and a token, however odd the target (never throws). */
function agentToken(target: string | undefined): string | undefined {
  const t = target ?? '';
  const q = t.indexOf('?');
  if ((q < 0 ? t : t.slice(0, q)) !== AGENT_PATH) return undefined;
  return new URLSearchParams(q < 0 ? '' : t.slice(q + 1)).get('token') ?? undefined;
}

function refuseUpgrade(socket: Socket, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

export class AgentServer {
  private readonly channels = new Set<AgentChannel>();
  private readonly connections = new Set<Socket>();
  private tokens = 0;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
    private readonly tokenDir: string,
  ) {}

  /**
   * Listen on 127.0.0.1, on a free port. Token files go in a fresh 0700 directory under
   * `tokenBase`, which the guest must see over the 9p share (not under /run).
   */
  static async start(tokenBase = tmpdir()): Promise<AgentServer> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (http.address() as { port: number }).port;
    const server = new AgentServer(http, wss, port, mkdtempSync(join(tokenBase, 'kunit-bridge-agent-')));
    http.on('connection', (socket: Socket) => {
      server.connections.add(socket);
      socket.once('close', () => server.connections.delete(socket));
    });
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => socket.destroy()); // an upgraded socket has no other error listener
      // Browsers always send Origin; the agent never does: no web page may reach the channel.
      if (req.headers.origin !== undefined) {
        refuseUpgrade(socket, '403 Forbidden');
        return;
      }
      const token = agentToken(req.url);
      const channel = token === undefined ? undefined : [...server.channels].find((c) => c.owns(token));
      if (!channel) {
        refuseUpgrade(socket, '401 Unauthorized');
        return;
      }
      try {
        wss.handleUpgrade(req, socket, head, (ws) => channel.attach(ws));
      } catch {
        socket.destroy();
      }
    });
    return server;
  }

  open(opts: AgentChannelOptions): AgentChannel {
    const channel = new AgentChannel(opts, join(this.tokenDir, `channel-${++this.tokens}.token`));
    this.channels.add(channel);
    return channel;
  }

  /** Open TCP connections to the channel's port, upgraded or not. */
  get openConnections(): number {
    return this.connections.size;
  }

  release(channel: AgentChannel): void {
    channel.close();
    this.channels.delete(channel);
  }

  async stop(): Promise<void> {
    for (const c of this.channels) c.close();
    this.channels.clear();
    rmSync(this.tokenDir, { recursive: true, force: true });
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const s of this.connections) s.destroy();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
