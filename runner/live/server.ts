/**
 * The live server: one HTTP port serving the web page (`/`) and the
 * WebSocket feed (`/feed?from=SEQ`). Bound to loopback by default; bound
 * anywhere else it requires a token (`?token=` or `Authorization: Bearer`).
 * Every request is checked before anything is served or upgraded — target,
 * `Host` (DNS rebinding), `Origin` (other web pages), method, path, token,
 * `from=` — and refused with a status and one line; nothing a client sends
 * can throw out of here (docs/live-protocol.md). The run never waits for a
 * client: each reads the feed at its own pace (runner/live/client.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { LiveFeed } from './feed.js';
import { CLOSE, FeedClient } from './client.js';
import { PageFiles } from './page-files.js';
import { HostPolicy, isLoopback, isRefusal, originAllowed, parseFrom, parseTarget, type Refusal, type Target } from './request.js';

export { CLOSE } from './client.js';
export { isLoopback } from './request.js';

export interface LiveServerOptions {
  feed: LiveFeed;
  host?: string;
  port?: number;
  /** Required from clients when set; generated when binding beyond loopback without one. */
  token?: string;
  /** Close a client (4001) that falls this many bytes behind what was published since it joined (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Bytes handed to one client's socket before waiting for it to drain (default 256 KiB). */
  chunkBytes?: number;
  /** Ping every this many ms; a client that missed the last pong, or took nothing while data waited, is cut (default 15000). */
  heartbeatMs?: number;
  /** This machine's name and addresses, for the `Host` check beyond loopback (default: from the OS). */
  machine?: { hostname?: string; addresses?: string[] };
}

/** Largest message a client may send (they have nothing to say). */
const MAX_CLIENT_MESSAGE = 4096;

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

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  414: 'URI Too Long',
  421: 'Misdirected Request',
  426: 'Upgrade Required',
  500: 'Internal Server Error',
};

export class LiveServer {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(
    http: Server,
    wss: WebSocketServer,
    host: string,
    port: number,
    token: string | undefined,
    heartbeat: NodeJS.Timeout,
  ) {
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
    const limits = { maxLagBytes: o.maxBufferedBytes ?? 4 * 1024 * 1024, chunkBytes: o.chunkBytes ?? 256 * 1024 };
    const hosts = new HostPolicy(host, o.machine);
    const page = new PageFiles();
    const clients = new Map<unknown, FeedClient>();

    /** The checks every request passes, page or feed, before anything else; a refusal or the target. */
    const admit = (req: IncomingMessage): Target | Refusal => {
      const target = parseTarget(req.url);
      if (isRefusal(target)) return target;
      if (!hosts.allows(req.headers.host)) {
        return {
          status: 421,
          reason: `Host ${JSON.stringify(req.headers.host ?? '')} is not this server: use the address the run printed`,
        };
      }
      if (!originAllowed(req.headers.origin, req.headers.host)) {
        return { status: 403, reason: 'requests from other web pages are refused (Origin is not this server)' };
      }
      if (token !== undefined) {
        const header = req.headers.authorization;
        const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
        if (!sameToken(target.params.get('token') ?? bearer, token))
          return { status: 401, reason: 'unauthorized: add ?token=… (the token the run printed)' };
      }
      return target;
    };

    const respond = (req: IncomingMessage, res: ServerResponse): void => {
      const headers = page.headers;
      const text = (status: number, body: string, extra: Record<string, string> = {}): void => {
        res
          .writeHead(status, {
            ...headers,
            'content-type': 'text/plain; charset=utf-8',
            'content-length': String(Buffer.byteLength(body) + 1),
            ...extra,
          })
          .end(`${body}\n`);
      };
      const target = admit(req);
      if (isRefusal(target)) return text(target.status, target.reason);
      if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'only GET and HEAD', { allow: 'GET, HEAD' });
      if (target.pathname === '/feed')
        return text(426, 'the feed is a WebSocket: connect with ws://…/feed', { upgrade: 'websocket', connection: 'Upgrade' });
      const file = page.get(target.pathname);
      if (file === undefined) return text(404, 'not found');
      if (file === null) return text(500, 'page missing from this installation');
      res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': String(file.body.length) });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    };

    const http = createServer({ headersTimeout: 20_000, requestTimeout: 30_000 }, (req, res) => {
      try {
        respond(req, res);
      } catch {
        // Nothing a client sends may end the run: whatever slipped past the checks costs this request only.
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      }
    });

    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE, clientTracking: true });
    wss.on('error', () => {
      /* per-socket errors are handled on the socket */
    });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      try {
        const refuse = ({ status, reason }: Refusal): void => {
          const body = `${reason}\n`;
          const lines = [
            `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
            'Connection: close',
            'Content-Type: text/plain; charset=utf-8',
            `Content-Length: ${Buffer.byteLength(body)}`,
            ...Object.entries(page.headers).map(([k, v]) => `${k}: ${v}`),
          ];
          // Then close for good: an upgrade's socket is not read any more, so the peer's FIN would never be seen.
          socket.once('finish', () => socket.destroy());
          socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
        };
        const target = admit(req);
        if (isRefusal(target)) return refuse(target);
        if (target.pathname !== '/feed') return refuse({ status: 404, reason: 'not found: the feed is /feed' });
        const from = parseFrom(target.params.get('from'), o.feed.lastSeq);
        if (typeof from !== 'number') return refuse(from);
        wss.handleUpgrade(req, socket, head, (ws) => {
          const client = new FeedClient(ws, o.feed, from, limits);
          clients.set(ws, client);
          ws.on('close', () => clients.delete(ws));
        });
      } catch {
        socket.destroy();
      }
    });

    const heartbeat = setInterval(() => {
      for (const ws of wss.clients) {
        const client = clients.get(ws);
        if (client === undefined || !client.beat()) ws.terminate();
      }
    }, o.heartbeatMs ?? 15000);
    heartbeat.unref();
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port ?? 0, host, () => {
        http.off('error', reject);
        http.on('error', () => {
          /* accept errors (EMFILE, …) must not end the run */
        });
        const addr = http.address();
        const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 0);
        const server = new LiveServer(http, wss, host, port, token, heartbeat);
        resolve(server);
      });
    });
  }

  /** Number of connected feed clients. */
  get clients(): number {
    return this.wss.clients.size;
  }

  /** Open TCP connections, feed clients included: what hostile requests must not pile up. */
  sockets(): Promise<number> {
    return new Promise((resolve) => this.http.getConnections((_err, n) => resolve(n ?? 0)));
  }

  /** Bytes waiting in the clients' sockets, all clients together (bounded by clients × chunk, whatever they read). */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.wss.clients) n += c.bufferedAmount;
    return n;
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

  /** Close every client (with `code`) and stop listening; a client that does not take its close frame within 2 s is cut. */
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
