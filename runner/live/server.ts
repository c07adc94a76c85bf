/**
 * The live server: one HTTP port serving the web page (`/`) and the
 * WebSocket feed (`/feed?from=SEQ`). Bound to loopback by default; bound
 * anywhere else it requires a token (`?token=` or `Authorization: Bearer`),
 * checked before the upgrade — a wrong or missing one gets 401 and nothing
 * else. Slow clients are dropped past a buffer bound; dead ones by a
 * ping/pong heartbeat. The run never waits for a client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { timingSafeEqual, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveFeed } from './feed.js';

/** Close codes the server uses (docs/live-protocol.md). */
export const CLOSE = {
  RUN_FINISHED: 1000,
  SERVER_STOPPING: 1001,
  TOO_SLOW: 4001,
  BAD_REQUEST: 4002,
} as const;

export interface LiveServerOptions {
  feed: LiveFeed;
  host?: string;
  port?: number;
  /** Required from clients when set; generated when binding beyond loopback without one. */
  token?: string;
  /** Drop a client whose unsent data exceeds this (bytes, default 4 MiB). */
  maxBufferedBytes?: number;
  /** Ping every this many ms; a client that missed the last pong is dropped (default 15000). */
  heartbeatMs?: number;
}

// The page ships as source: beside this file when run from source (runner/live/server.ts), three
// levels up from the compiled dist/runner/live/server.js.
const PAGE_DIR = [new URL('./page/', import.meta.url), new URL('../../../runner/live/page/', import.meta.url)]
  .find((u) => existsSync(new URL('index.html', u))) ?? new URL('../../../runner/live/page/', import.meta.url);
const ASSETS: Record<string, string> = {
  '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css', '/status.js': 'status.js',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `PORT`, `HOST:PORT` or `[v6]:PORT`; host defaults to 127.0.0.1. */
export function parseListen(spec: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d{1,5})$/.exec(spec.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

interface Client extends WebSocket { alive?: boolean; unsubscribe?: () => void }

export class LiveServer {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(http: Server, wss: WebSocketServer, host: string, port: number, token: string | undefined, heartbeat: NodeJS.Timeout) {
    this.http = http;
    this.wss = wss;
    this.host = host;
    this.port = port;
    this.token = token;
    this.heartbeat = heartbeat;
  }

  /** `ws://host:port/feed` (with the token, if any). */
  get feedUrl(): string {
    return `ws://${this.hostForUrl()}:${this.port}/feed${this.token ? `?token=${encodeURIComponent(this.token)}` : ''}`;
  }

  get pageUrl(): string {
    return `http://${this.hostForUrl()}:${this.port}/${this.token ? `?token=${encodeURIComponent(this.token)}` : ''}`;
  }

  private hostForUrl(): string {
    const h = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return h.includes(':') ? `[${h}]` : h;
  }

  static start(o: LiveServerOptions): Promise<LiveServer> {
    const host = o.host ?? '127.0.0.1';
    const token = o.token ?? (isLoopback(host) ? undefined : randomBytes(18).toString('base64url'));
    const maxBuffered = o.maxBufferedBytes ?? 4 * 1024 * 1024;
    const authorized = (req: IncomingMessage, url: URL): boolean => {
      if (token === undefined) return true;
      const header = req.headers.authorization;
      const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
      return sameToken(url.searchParams.get('token') ?? bearer, token);
    };
    const http = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const asset = ASSETS[url.pathname];
      if (req.method !== 'GET' || asset === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      if (!authorized(req, url)) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized: add ?token=…\n');
        return;
      }
      try {
        const body = readFileSync(new URL(asset, PAGE_DIR));
        res.writeHead(200, { 'content-type': TYPES[asset.split('.').pop()!] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
      } catch {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('page missing from this installation\n');
      }
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const refuse = (status: string): void => {
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      };
      if (url.pathname !== '/feed') return refuse('404 Not Found');
      if (!authorized(req, url)) return refuse('401 Unauthorized');
      const fromText = url.searchParams.get('from') ?? '0';
      if (!/^\d+$/.test(fromText)) return refuse('400 Bad Request');
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws as Client, Number(fromText)));
    });
    const attach = (ws: Client, from: number): void => {
      ws.alive = true;
      ws.on('pong', () => { ws.alive = true; });
      // One console chunk publishes dozens of messages in one go: hold this client's socket
      // writes until the end of the tick and flush them in one writev, not one syscall each.
      const socket = (ws as unknown as { _socket?: Duplex })._socket;
      let corked = false;
      // What the client had not taken when this burst began: the burst itself is not its fault.
      let backlog = 0;
      const send = (json: string): void => {
        if (ws.readyState !== ws.OPEN) return;
        if (!corked) {
          backlog = ws.bufferedAmount;
          if (socket) {
            corked = true;
            socket.cork();
            process.nextTick(() => {
              corked = false;
              socket.uncork();
            });
          }
        }
        if (backlog > maxBuffered) {
          ws.unsubscribe?.();
          ws.close(CLOSE.TOO_SLOW, `too slow: more than ${maxBuffered} bytes behind; reconnect with ?from=<last seq>`);
          setTimeout(() => ws.terminate(), 1000).unref();
          return;
        }
        ws.send(json);
      };
      // Replay and subscribe in one tick: nothing missed, nothing twice.
      for (const json of o.feed.since(from)) send(json);
      ws.unsubscribe = o.feed.subscribe((_m, json) => send(json));
      ws.on('close', () => ws.unsubscribe?.());
      ws.on('error', () => ws.unsubscribe?.());
      ws.on('message', () => { /* clients have nothing to say yet */ });
    };
    const heartbeat = setInterval(() => {
      for (const c of wss.clients as Set<Client>) {
        if (!c.alive) {
          c.terminate();
          continue;
        }
        c.alive = false;
        c.ping();
      }
    }, o.heartbeatMs ?? 15000);
    heartbeat.unref();
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port ?? 0, host, () => {
        const addr = http.address();
        const port = typeof addr === 'object' && addr ? addr.port : o.port ?? 0;
        resolve(new LiveServer(http, wss, host, port, token, heartbeat));
      });
    });
  }

  /** Number of connected feed clients. */
  get clients(): number {
    return this.wss.clients.size;
  }

  /**
   * Drop every connected client and keep serving: with a close frame (`code`), or cut (`hard`).
   * Clients resume with `?from=`; used to prove they do.
   */
  disconnectAll(code: number = CLOSE.SERVER_STOPPING, reason = 'disconnected', hard = false): void {
    for (const c of this.wss.clients) {
      if (hard) c.terminate();
      else c.close(code, reason);
    }
  }

  /** Close every client (with `code`) and stop listening. */
  async close(code: number = CLOSE.RUN_FINISHED, reason = 'run finished'): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.wss.clients) c.close(code, reason);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const c of this.wss.clients) c.terminate();
        resolve();
      }, 2000);
      t.unref();
      const check = (): void => {
        if (this.wss.clients.size === 0) {
          clearTimeout(t);
          resolve();
        } else setTimeout(check, 20).unref();
      };
      check();
    });
    this.wss.close();
    this.http.closeAllConnections?.();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
