/**
 * The live server against hostile clients, over real loopback sockets: request
 * targets that made `new URL` throw, other hosts (DNS rebinding), other
 * origins (any web page), wrong methods; the security headers and HEAD; and
 * clients that read nothing — with replay bounded and pongs no excuse.
 */
import WebSocket from 'ws';
import { expect, test } from 'vitest';
import { CLOSE } from '../../../runner/live/server.js';
import { HostPolicy, originAllowed, parseFrom, parseTarget } from '../../../runner/live/request.js';
import { contentSecurityPolicy, inlineScriptHashes } from '../../../runner/live/page-files.js';
import { emptyCounts } from '../../../runner/ktap/model.js';
import { UPGRADE, head, rawRequest } from '../../helpers/raw-http.js';
import { useLiveServers } from '../../helpers/live-server.js';
import { waitFor } from '../../helpers/wait-for.js';

const start = useLiveServers();

const log = (i: number, size = 200) => ({
  type: 'log' as const,
  lane: 0,
  path: ['s', 't'],
  text: `line ${i} ${'x'.repeat(size)}`,
  diagnostic: false,
});
const runEnd = { type: 'run-end' as const, counts: emptyCounts(), verdict: 'passed' as const, exitCode: 0 };

/** Every message of the feed, through a real ws client (with the given headers). */
function collect(url: string, headers: Record<string, string> = {}): Promise<{ seqs: number[]; code: number; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    const seqs: number[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { seq: number; type: string };
      seqs.push(m.seq);
      if (m.type === 'run-end') ws.close();
    });
    ws.on('unexpected-response', (_q, res) => {
      ws.terminate();
      resolve({ seqs, code: 0, status: res.statusCode });
    });
    ws.on('close', (code) => resolve({ seqs, code }));
    ws.on('error', () => {
      /* close or unexpected-response follows */
    });
  });
}

const HOSTILE_TARGETS = ['//x:99999/', '//[', '//%', '/\\x:99999/', '/\\\\[', 'http://x:99999/', '*', '//feed'];

test('request targets that made new URL() throw get 400, plain and as upgrades; the server goes on serving', async () => {
  const { feed, server } = await start({ token: 'T' });
  feed.publish({ type: 'run-start', metadata: {}, lanes: 1 });
  for (const target of HOSTILE_TARGETS) {
    const host = { Host: `127.0.0.1:${server.port}` };
    const plain = await rawRequest(server.port, head('GET', target, host));
    expect(plain.status, `GET ${target}`).toBe(400);
    expect(plain.headers['x-content-type-options']).toBe('nosniff');
    // A client that goes on talking WebSocket after the answer.
    const upgrade = await rawRequest(server.port, head('GET', target, { ...host, ...UPGRADE }), { after: Buffer.from([0x81, 0x00]) });
    expect(upgrade.status, `upgrade ${target}`).toBe(400);
    expect(upgrade.text).not.toContain('run-start');
  }
  // Nothing left open by the refusals (a refused upgrade's socket is no longer read: it must be closed, not left half-open).
  await waitFor(async () => (await server.sockets()) === 0, { what: "the refused requests' sockets to close" });
  // Still serving: the page (with the token) and the whole feed.
  expect((await fetch(server.pageUrl)).status).toBe(200);
  feed.publish(runEnd);
  expect((await collect(server.feedUrl)).seqs).toEqual([1, 2]);
});

test('Host: loopback names and the bound address are served; any other name (DNS rebinding) gets 421, page and feed', async () => {
  const { feed, server } = await start();
  feed.publish(runEnd);
  const port = server.port;
  for (const good of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, '127.0.0.1', `127.0.0.5:${port}`]) {
    expect((await rawRequest(port, head('GET', '/', { Host: good }))).status, good).toBe(200);
    expect((await rawRequest(port, head('GET', '/feed', { Host: good, ...UPGRADE }), { untilHead: true })).status, good).toBe(101);
  }
  for (const bad of [
    `evil.example:${port}`,
    'evil.example',
    `localhost.evil.example:${port}`,
    `127.0.0.1.nip.io:${port}`,
    '[::ffff:7f00:1]',
    'a b',
    '',
  ]) {
    expect((await rawRequest(port, head('GET', '/', { Host: bad }))).status, bad).toBe(421);
    const up = await rawRequest(port, head('GET', '/feed', { Host: bad, ...UPGRADE }));
    expect(up.status, bad).toBe(421);
    expect(up.text).not.toContain('run-end');
  }
  // No Host at all (HTTP/1.1 requires one).
  expect((await rawRequest(port, 'GET / HTTP/1.1\r\n\r\n')).status).toBe(400);
});

test("Host beyond loopback: this machine's addresses and name, short or qualified", () => {
  const policy = new HostPolicy('0.0.0.0', { hostname: 'ci-box', addresses: ['192.168.7.2', 'fe80::1%eth0'] });
  for (const h of ['192.168.7.2:8080', '[fe80::1]:8080', 'ci-box:8080', 'ci-box.example.org', 'CI-BOX', 'localhost:1', '127.0.0.1'])
    expect(policy.allows(h), h).toBe(true);
  for (const h of ['evil.example', 'ci-boxx', 'xci-box', '192.168.7.3', undefined]) expect(policy.allows(h), String(h)).toBe(false);
  const bound = new HostPolicy('10.0.0.9', { hostname: 'box', addresses: [] });
  expect(bound.allows('10.0.0.9:1')).toBe(true);
  expect(new HostPolicy('127.0.0.1', { hostname: 'box', addresses: ['10.0.0.9'] }).allows('box')).toBe(false);
});

test("Origin: another web page gets 403 on the feed and the page; the page's own origin and no Origin are served", async () => {
  const { feed, server } = await start();
  feed.publish({ type: 'run-start', metadata: { outputDir: '/secret' }, lanes: 1 });
  feed.publish(runEnd);
  const own = `http://127.0.0.1:${server.port}`;
  for (const evil of ['http://evil.example', 'null', `https://evil.example:${server.port}`, `${own}.evil.example`, 'file://']) {
    const ws = await collect(server.feedUrl, { Origin: evil });
    expect(ws.status, evil).toBe(403);
    expect(ws.seqs).toEqual([]);
    expect((await fetch(server.pageUrl, { headers: { Origin: evil } })).status, evil).toBe(403);
  }
  expect((await collect(server.feedUrl, { Origin: own })).seqs).toEqual([1, 2]);
  expect((await collect(server.feedUrl)).seqs).toEqual([1, 2]);
  // Reached as localhost, the page's origin is http://localhost:PORT.
  expect((await collect(`ws://localhost:${server.port}/feed`, { Origin: `http://localhost:${server.port}` })).seqs).toEqual([1, 2]);
  expect(originAllowed(`http://localhost:${server.port}`, `127.0.0.1:${server.port}`)).toBe(false);
});

test('headers: CSP with frame-ancestors, nosniff, DENY, no referrer; HEAD is GET without the body; other methods 405', async () => {
  const { server } = await start();
  const page = await fetch(server.pageUrl);
  const html = await page.text();
  expect(page.status).toBe(200);
  const csp = page.headers.get('content-security-policy')!;
  expect(csp).toBe(contentSecurityPolicy(inlineScriptHashes(html)));
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(inlineScriptHashes(html)).toHaveLength(1);
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  expect(page.headers.get('x-frame-options')).toBe('DENY');
  expect(page.headers.get('referrer-policy')).toBe('no-referrer');

  const headReq = await rawRequest(server.port, head('HEAD', '/app.js', { Host: `127.0.0.1:${server.port}`, Connection: 'close' }));
  const getReq = await fetch(`${server.pageUrl}app.js`);
  expect(headReq.status).toBe(200);
  expect(Number(headReq.headers['content-length'])).toBe(Buffer.byteLength(await getReq.text()));
  expect(headReq.text.split('\r\n\r\n')[1]).toBe('');
  expect(headReq.headers['content-type']).toBe('text/javascript; charset=utf-8');

  const post = await fetch(server.pageUrl, { method: 'POST', body: 'x' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
  expect(post.headers.get('x-frame-options')).toBe('DENY');
  expect((await fetch(`${server.pageUrl}feed`)).status).toBe(426);
  expect((await fetch(`${server.pageUrl}nope`)).status).toBe(404);
});

test('pure checks: targets, from=', () => {
  expect(parseTarget('/feed?from=3')).toMatchObject({ pathname: '/feed' });
  for (const t of HOSTILE_TARGETS) expect(parseTarget(t), t).toMatchObject({ status: 400 });
  expect(parseTarget(`/${'a'.repeat(9000)}`)).toMatchObject({ status: 414 });
  expect(parseTarget(undefined)).toMatchObject({ status: 400 });
  expect(parseFrom(null, 0)).toBe(0);
  expect(parseFrom('5', 5)).toBe(5);
  expect(parseFrom('6', 5)).toMatchObject({ status: 409 });
  expect(parseFrom('99999999999999999999', 5)).toMatchObject({ status: 400 });
  expect(parseFrom('-1', 5)).toMatchObject({ status: 400 });
});

test('replay is sent in bounded chunks: 20 clients that read nothing hold a bounded buffer, not 20 copies of the feed', async () => {
  const chunkBytes = 64 * 1024;
  const { feed, server } = await start({ chunkBytes });
  // A ~20 MB feed, as in the report.
  for (let i = 0; i < 20_000; i++) feed.publish(log(i, 1000));
  const feedBytes = feed.bytesAfter(0);
  expect(feedBytes).toBeGreaterThan(20_000_000);
  const stalled = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const ws = new WebSocket(server.feedUrl);
      await new Promise((r) => ws.once('upgrade', r));
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      return ws;
    }),
  );
  // Each stalled client's socket is full: the server holds its chunk and waits for a drain that does not come.
  await waitFor(() => server.clients === 20 && server.bufferedBytes >= 20 * chunkBytes, {
    timeoutMs: 30_000,
    what: 'the 20 stalled clients to fill up',
  });
  // At most one chunk plus one message per client waits in user space (the rest is the kernel's socket buffer).
  expect(server.bufferedBytes).toBeLessThanOrEqual(20 * (chunkBytes + 1100));
  // A client that reads gets every message, in order.
  feed.publish(runEnd);
  const reader = await collect(server.feedUrl);
  expect(reader.seqs).toEqual(Array.from({ length: feed.lastSeq }, (_, i) => i + 1));
  for (const ws of stalled) ws.terminate();
}, 60_000);

test('a client that reads nothing is cut after the run ends, even though it keeps sending pongs', async () => {
  const { feed, server } = await start({ heartbeatMs: 150, chunkBytes: 64 * 1024 });
  for (let i = 0; i < 20_000; i++) feed.publish(log(i, 1000));
  feed.publish(runEnd);
  const ws = new WebSocket(server.feedUrl);
  await new Promise((r) => ws.once('upgrade', r));
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  // Unsolicited pongs, all the time: they keep a peer alive, not one that takes nothing.
  const pongs = setInterval(() => ws.pong(), 30);
  try {
    await waitFor(() => server.clients === 0, { timeoutMs: 10_000, what: 'the client that reads nothing to be cut' });
  } finally {
    clearInterval(pongs);
    ws.terminate();
  }
}, 30_000);

test('a client far behind the live tail is closed with 4001 while it blocks, and may resume with from=', async () => {
  const { feed, server } = await start({ maxBufferedBytes: 1024 * 1024, chunkBytes: 64 * 1024 });
  const ws = new WebSocket(server.feedUrl);
  await new Promise((r) => ws.once('open', r));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  for (let i = 0; i < 20_000; i++) feed.publish(log(i, 1000));
  await waitFor(() => server.clients === 0, { timeoutMs: 10_000, what: 'the client far behind to be closed' });
  (ws as unknown as { _socket: { resume(): void } })._socket.resume();
  expect([CLOSE.TOO_SLOW, 1006]).toContain(await closed);
  feed.publish(runEnd);
  expect((await collect(`${server.feedUrl}?from=19990`)).seqs).toEqual(Array.from({ length: 11 }, (_, i) => 19_991 + i));
}, 60_000);
