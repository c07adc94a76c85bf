/**
 * Fuzz of the live server's entry points over real loopback sockets: random
 * methods, request targets, headers and — after an upgrade — random WebSocket
 * frames, while a real boot log is replayed into the feed. Bounded in count
 * and time; seeded (the seed is in the test name). Whatever is sent, the
 * server answers or closes, never fails with 5xx or an uncaught error, keeps
 * serving, and the feed ends with the log's own verdict, every message once.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { expect, test } from 'vitest';
import { KtapStream, parseLog } from '../../../runner/ktap/index.js';
import { messageFor } from '../../../runner/live/protocol.js';
import { mulberry32, type Prng } from '../../helpers/prng.js';
import { UPGRADE, rawRequest } from '../../helpers/raw-http.js';
import { useLiveServers } from '../../helpers/live-server.js';
import { FIXTURES } from '../../helpers/hostile.js';

const start = useLiveServers();
const LOG = readFileSync(new URL('kernels/x86_64-rust-kunit/boot.log', FIXTURES));
const LINES = LOG.toString('latin1')
  .split(/(?<=\n)/)
  .map((l) => Buffer.from(l, 'latin1'));
const FINAL = parseLog(LOG);

const REQUESTS = 300;
const PARALLEL = 8;
const SEEDS = [0x9e3779b9, 20261201, 7];

const pick = <T>(r: Prng, items: readonly T[]): T => items[r.int(items.length)]!;
const junk = (r: Prng, n: number, alphabet = 'ab/%[]:@?#&=.\\~\'"<> \t01%zz%00%ff'): string =>
  Array.from({ length: r.int(n) }, () => alphabet[r.int(alphabet.length)]).join('');

function target(r: Prng): string {
  switch (r.int(8)) {
    case 0:
      return pick(r, ['//x:99999/', '//[', '//%', '/\\x:99999/', 'http://x:99999/', '*', '//feed', '/feed\\..\\..', '?', '#']);
    case 1:
      return `/feed?from=${pick(r, ['', '-1', '0', '1', '99999999999999999999', '1e3', '0x10', junk(r, 8)])}`;
    case 2:
      return pick(r, ['/', '/index.html', '/app.js', '/style.css', '/feed', '/favicon.ico', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/']);
    case 3:
      return `/${junk(r, 60)}`;
    case 4:
      return `/feed?${junk(r, 40)}`;
    case 5:
      return `/${'a'.repeat(r.int(20_000))}`;
    case 6:
      return Buffer.from(r.bytes(1 + r.int(30)))
        .toString('latin1')
        .replace(/[\r\n ]/g, '');
    default:
      return `/feed?token=${junk(r, 20)}&from=${r.int(5)}`;
  }
}

function headers(r: Prng, port: number): string[] {
  const own = `127.0.0.1:${port}`;
  const out: string[] = [];
  if (r.next() < 0.85) out.push(`Host: ${pick(r, [own, `localhost:${port}`, 'evil.example', `[::1]:${port}`, '', junk(r, 20), own])}`);
  if (r.next() < 0.4) out.push(`Origin: ${pick(r, [`http://${own}`, 'http://evil.example', 'null', junk(r, 30)])}`);
  if (r.next() < 0.5) {
    const up: Record<string, string> = { ...UPGRADE };
    if (r.next() < 0.2) up['Sec-WebSocket-Key'] = junk(r, 30);
    if (r.next() < 0.1) up['Sec-WebSocket-Version'] = String(r.int(20));
    if (r.next() < 0.1) delete up['Connection'];
    for (const [k, v] of Object.entries(up)) out.push(`${k}: ${v}`);
  }
  if (r.next() < 0.2) out.push(`Authorization: ${pick(r, ['Bearer ', 'Bearer x', 'Basic Zm9v', junk(r, 40)])}`);
  if (r.next() < 0.15) out.push(`Content-Length: ${pick(r, ['0', '5', '-1', '99999999999', 'x'])}`);
  if (r.next() < 0.1) out.push('Transfer-Encoding: chunked');
  for (let i = r.int(4); i > 0; i--) out.push(`${junk(r, 12, 'abcXYZ-_')}: ${junk(r, 40)}`);
  if (r.next() < 0.05) out.push(junk(r, 60)); // not a header line at all
  return r.shuffle(out);
}

/** Random WebSocket frames, well-formed or not, masked or not. */
function frames(r: Prng): Buffer {
  const parts: Buffer[] = [];
  for (let i = 1 + r.int(4); i > 0; i--) {
    if (r.next() < 0.3) {
      parts.push(Buffer.from(r.bytes(1 + r.int(64))));
      continue;
    }
    const opcode = pick(r, [0x1, 0x2, 0x8, 0x9, 0xa, 0x0, 0x3, 0xf]);
    const payload = Buffer.from(r.bytes(r.int(200)));
    const fin = r.next() < 0.8 ? 0x80 : 0;
    const masked = r.next() < 0.8;
    const len = r.next() < 0.1 ? 127 : Math.min(payload.length, 125);
    const header = [fin | opcode, (masked ? 0x80 : 0) | len];
    if (len === 127) header.push(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); // a 2^64-1 byte claim
    const mask = masked ? Buffer.from(r.bytes(4)) : Buffer.alloc(0);
    parts.push(Buffer.from(header), mask, payload.subarray(0, len === 127 ? 16 : len));
  }
  return Buffer.concat(parts);
}

/** Half the requests are wild; the other half a good page or feed request with one field gone wrong. */
function request(r: Prng, port: number): { data: Buffer; after?: Buffer } {
  const wild = r.next() < 0.5;
  const method = wild
    ? pick(r, ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'CONNECT', 'TRACE', 'BREW', junk(r, 8, 'ABCXYZ')])
    : pick(r, ['GET', 'GET', 'HEAD']);
  const version = wild ? pick(r, ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', '']) : 'HTTP/1.1';
  let lines: string[];
  let path: string;
  if (wild) {
    path = target(r);
    lines = headers(r, port);
  } else {
    path = pick(r, ['/', '/app.js', '/style.css', '/feed', `/feed?from=${r.int(50)}`]);
    lines = [`Host: 127.0.0.1:${port}`, ...(path.startsWith('/feed') ? Object.entries(UPGRADE).map(([k, v]) => `${k}: ${v}`) : [])];
    // One thing wrong, or nothing.
    const i = r.int(lines.length + 3);
    if (i < lines.length) lines[i] = r.next() < 0.5 ? `${lines[i]}${junk(r, 10)}` : junk(r, 30);
    else if (i === lines.length) lines.push(...headers(r, port).slice(0, 2));
  }
  const text = `${method} ${path} ${version}\r\n${lines.map((h) => `${h}\r\n`).join('')}\r\n`;
  const body = wild && r.next() < 0.2 ? Buffer.from(r.bytes(r.int(100))) : Buffer.alloc(0);
  return { data: Buffer.concat([Buffer.from(text, 'latin1'), body]), ...(r.next() < 0.6 ? { after: frames(r) } : {}) };
}

/** Every message of the feed, through a real client, until run-end. */
function follow(url: string): Promise<{ seqs: number[]; end?: { verdict: string; counts: unknown } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const seqs: number[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { seq: number; type: string; verdict: string; counts: unknown };
      seqs.push(m.seq);
      if (m.type === 'run-end') {
        ws.close();
        resolve({ seqs, end: m });
      }
    });
    ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('close', () => resolve({ seqs }));
    ws.on('error', () => {
      /* close follows */
    });
  });
}

test.each(SEEDS)(
  `fuzz seed %i: ${REQUESTS} hostile requests while a real log is fed live; the feed and the server hold`,
  async (seed) => {
    const r = mulberry32(seed);
    const { feed, server } = await start({ heartbeatMs: 500 });
    const stream = new KtapStream({
      onEvent: (e) => {
        const m = messageFor(e, 0);
        if (m) feed.publish(m);
      },
    });
    feed.publish({ type: 'run-start', metadata: { kernel: 'bzImage' }, lanes: 1 });
    const early = follow(server.feedUrl);

    // The run: the log line by line, a few lines per turn of the event loop, until the fuzz is done.
    let fuzzing = true;
    let line = 0;
    const feeding = (async () => {
      while (line < LINES.length) {
        for (const end = Math.min(LINES.length, line + 1 + r.int(20)); line < end; line++) stream.write(LINES[line]!);
        await new Promise((res) => setTimeout(res, fuzzing ? 2 : 0));
      }
    })();

    const statuses = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    let sent = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (sent < REQUESTS && Date.now() < deadline) {
          sent++;
          const { data, after } = request(r, server.port);
          const res = await rawRequest(server.port, data, { timeoutMs: 800, ...(after ? { after } : {}) });
          const key = String(res.status ?? 'closed');
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          expect(res.status === undefined || res.status < 500, `${res.status}: ${data.toString('latin1').slice(0, 200)}`).toBe(true);
        }
      }),
    );
    fuzzing = false;
    expect(sent).toBeGreaterThanOrEqual(REQUESTS);
    await feeding;
    const result = stream.finish();
    feed.publish({ type: 'run-end', counts: result.counts, verdict: result.verdict, exitCode: 1 });

    // The feed's verdict is the log's own, and every client saw every message once, in order.
    expect(result.verdict).toBe(FINAL.verdict);
    expect(result.counts).toEqual(FINAL.counts);
    const all = Array.from({ length: feed.lastSeq }, (_, i) => i + 1);
    const first = await early;
    expect(first.seqs).toEqual(all);
    expect(first.end).toMatchObject({ verdict: 'failed', counts: FINAL.counts });
    // Still serving: the page and a late joiner.
    expect((await fetch(server.pageUrl)).status).toBe(200);
    expect((await follow(server.feedUrl)).seqs).toEqual(all);
    // Not every request was turned away at the door: some reached the page and the feed.
    expect(statuses.get('200') ?? 0).toBeGreaterThan(0);
    expect(statuses.get('101') ?? 0).toBeGreaterThan(0);
  },
  120_000,
);
