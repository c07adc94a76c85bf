/** The agent's own WebSocket client against the real `ws` server (the runner's). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsClient, acceptFor, encodeFrame } from '../../agent/ws-client.js';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function wsServer(onConnection: (s: WebSocket, url: string) => void, opts: { maxPayload?: number } = {}): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...opts });
  servers.push(wss);
  wss.on('connection', (s, req) => {
    s.on('error', () => {}); // the server side's own view of a refused frame
    onConnection(s, req.url ?? '');
  });
  await new Promise<void>((r) => wss.on('listening', () => r()));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

async function httpServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s: Server = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `ws://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

interface Seen {
  events: string[];
  messages: string[];
  closed: Promise<number>;
}

function watch(c: WsClient): Seen {
  const seen: Seen = { events: [], messages: [], closed: undefined as unknown as Promise<number> };
  c.on('open', () => seen.events.push('open'));
  c.on('message', (d: Buffer, binary: boolean) => seen.messages.push(`${binary ? 'bin' : 'text'}:${d.toString('utf8')}`));
  c.on('error', (e: Error) => seen.events.push(`error:${e.message}`));
  seen.closed = new Promise((r) => c.on('close', (code: number) => r(code)));
  return seen;
}

test('the accept value of RFC 6455 §1.3', () => {
  expect(acceptFor('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('frames are masked, with 7-, 16- and 64-bit lengths', () => {
  const mask = Buffer.from([1, 2, 3, 4]);
  const small = encodeFrame(1, Buffer.from('hi'), mask);
  expect([...small]).toEqual([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
  expect(encodeFrame(1, Buffer.alloc(300), mask).subarray(0, 4)).toEqual(Buffer.from([0x81, 0xfe, 0x01, 0x2c]));
  const big = encodeFrame(2, Buffer.alloc(70_000), mask);
  expect(big.subarray(0, 10)).toEqual(Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 1, 0x11, 0x70]));
  expect(big.length).toBe(10 + 4 + 70_000);
});

test('handshake, path and query, text both ways (UTF-8, small and large), fragments, ping, the close code', async () => {
  const big = 'é'.repeat(100_000);
  let path = '';
  const url = await wsServer((s, u) => {
    path = u;
    s.on('message', (m, binary) => {
      const text = String(m);
      if (text === 'fragments') {
        s.send('one ', { fin: false });
        s.send('two ', { fin: false });
        s.send('three', { fin: true });
      } else if (text === 'ping') s.ping('p');
      else if (text === 'bye') s.close(4003, 'go away');
      else s.send(binary ? m : `echo ${text}`);
    });
    s.on('pong', (d) => s.send(`pong ${String(d)}`));
  });
  const c = new WsClient(`${url}/agent?token=a%2Bb`);
  const seen = watch(c);
  await new Promise((r) => c.once('open', r));
  expect(path).toBe('/agent?token=a%2Bb');
  c.send('hello ☃');
  c.send(big);
  c.send('fragments');
  c.send('ping');
  await new Promise<void>((r) => {
    const t = setInterval(() => {
      if (seen.messages.length < 4) return;
      clearInterval(t);
      r();
    }, 5);
  });
  c.send('bye');
  expect(await seen.closed).toBe(4003);
  expect(seen.messages).toEqual(['text:echo hello ☃', `text:echo ${big}`, 'text:one two three', 'text:pong p']);
  expect(seen.events).toEqual(['open']);
});

test('our close: the server sees our code; close is said once', async () => {
  let serverSaw = 0;
  const gotClose = new Promise<void>((r) => {
    void wsServer((s) =>
      s.on('close', (code) => {
        serverSaw = code;
        r();
      }),
    ).then((url) => {
      const c = new WsClient(url);
      const seen = watch(c);
      c.on('open', () => c.close(4004));
      void seen.closed.then((code) => expect(code).toBe(4004));
    });
  });
  await gotClose;
  expect(serverSaw).toBe(4004);
});

test("a message over the server's maxPayload: the server closes with 1009", async () => {
  const url = await wsServer(() => {}, { maxPayload: 1000 });
  const c = new WsClient(url);
  const seen = watch(c);
  c.on('open', () => c.send('x'.repeat(2000)));
  expect(await seen.closed).toBe(1009);
});

test('a message over our maxPayload: error, then close 1009', async () => {
  const url = await wsServer((s) => s.send('y'.repeat(5000)));
  const c = new WsClient(url, { maxPayload: 1000 });
  const seen = watch(c);
  expect(await seen.closed).toBe(1009);
  expect(seen.events).toEqual(['open', 'error:Invalid WebSocket frame: Max payload size exceeded']);
});

test('refusals: no listener, an HTTP error, a wrong accept, a silent server (handshake timeout)', async () => {
  const refused = await httpServer(() => {});
  servers.pop()?.close();
  const conn = watch(new WsClient(refused));
  expect(await conn.closed).toBe(1006);
  expect(conn.events[0]).toMatch(/^error:.*ECONNREFUSED/);

  const http403 = await httpServer((_, res) => res.writeHead(403).end());
  const forbidden = watch(new WsClient(http403));
  expect(await forbidden.closed).toBe(1006);
  expect(forbidden.events).toEqual(['error:Unexpected server response: 403']);

  const wrong = await httpServer(() => {});
  (servers.at(-1) as Server).on('upgrade', (_req, sock) =>
    sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n'),
  );
  const bad = watch(new WsClient(wrong));
  expect(await bad.closed).toBe(1006);
  expect(bad.events).toEqual(['error:Invalid Sec-WebSocket-Accept header']);

  const silent = await httpServer(() => {});
  (servers.at(-1) as Server).on('upgrade', () => {});
  const timeout = watch(new WsClient(silent, { handshakeTimeout: 200 }));
  expect(await timeout.closed).toBe(1006);
  expect(timeout.events).toEqual(['error:Opening handshake has timed out']);
});
