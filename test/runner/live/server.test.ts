/**
 * The live server with real sockets on loopback: replay, backpressure,
 * heartbeat, tokens, and the watch client's reconnect.
 */
import WebSocket from 'ws';
import { expect, test } from 'vitest';
import { CLOSE, isLoopback, parseListen } from '../../../runner/live/server.js';
import { eventFor, feedUrl, watchCommand } from '../../../runner/commands/watch.js';
import { emptyCounts } from '../../../runner/ktap/model.js';
import { useLiveServers } from '../../helpers/live-server.js';
import { waitFor } from '../../helpers/wait-for.js';

const start = useLiveServers();

const log = (i: number) => ({ type: 'log' as const, lane: 0, path: ['s', 't'], text: `line ${i} ${'x'.repeat(200)}`, diagnostic: false });

test('listen addresses and loopback', () => {
  expect(parseListen('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
  expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
  expect(parseListen('[::1]:9')).toEqual({ host: '::1', port: 9 });
  expect(parseListen('host:99999')).toBeUndefined();
  expect(parseListen('nope')).toBeUndefined();
  expect(isLoopback('127.0.0.2')).toBe(true);
  expect(isLoopback('0.0.0.0')).toBe(false);
});

test('a client that stops reading is dropped with 4001 past the bound; the others get everything', async () => {
  const { feed, server } = await start({ maxBufferedBytes: 256 * 1024 });
  const slow = new WebSocket(`ws://127.0.0.1:${server.port}/feed`);
  const fast = new WebSocket(`ws://127.0.0.1:${server.port}/feed`);
  await Promise.all([new Promise((r) => slow.once('open', r)), new Promise((r) => fast.once('open', r))]);
  (slow as unknown as { _socket: { pause(): void } })._socket.pause();
  let got = 0;
  fast.on('message', () => {
    got++;
  });
  // Far more than the kernel's socket buffers and the bound: ~60 MB.
  const total = 250_000;
  for (let i = 0; i < total; i += 1000) {
    for (let j = i; j < i + 1000; j++) feed.publish(log(j));
    await new Promise((r) => setImmediate(r));
  }
  // The server gave up on it: it sent 4001 and, with the close frame stuck behind the unread data, cut it.
  await waitFor(() => server.clients === 1, { timeoutMs: 10_000, what: 'the slow client to be dropped' });
  const closed = new Promise<number>((r) => slow.once('close', (code) => r(code)));
  (slow as unknown as { _socket: { resume(): void } })._socket.resume();
  expect([CLOSE.TOO_SLOW, 1006]).toContain(await closed);
  await waitFor(() => got >= total, { timeoutMs: 30_000, what: `the fast client's ${total} messages` });
  expect(got).toBe(total);
  expect(server.clients).toBe(1);
  fast.close();
}, 60_000);

test('a client that answers no pings is dropped by the heartbeat', async () => {
  const { server } = await start({ heartbeatMs: 100 });
  const dead = new WebSocket(`ws://127.0.0.1:${server.port}/feed`, { autoPong: false });
  await new Promise((r) => dead.once('open', r));
  const closed = new Promise<number>((r) => dead.once('close', (code) => r(code)));
  expect(await closed).toBe(1006);
});

test('unknown paths and bad from= are refused before the upgrade', async () => {
  const { feed, server } = await start();
  const status = (path: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`);
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => {
        /* handled */
      });
    });
  expect(await status('/nope')).toBe(404);
  expect(await status('/feed?from=-1')).toBe(400);
  expect(await status('/feed?from=')).toBe(400);
  expect(await status('/feed?from=1e3')).toBe(400);
  // Ahead of the feed: the client follows another run.
  expect(await status('/feed?from=3')).toBe(409);
  for (let i = 0; i < 3; i++) feed.publish(log(i));
  expect(await status('/feed?from=3')).toBe(101);
  expect(await status('/feed?from=0')).toBe(101);
});

test('watch resumes after the server drops it, and ends with run-end', async () => {
  const { feed, server } = await start();
  feed.publish({ type: 'run-start', metadata: {}, lanes: 1 });
  const seen: string[] = [];
  const done = watchCommand({
    url: `127.0.0.1:${server.port}`,
    warn: () => {},
    onEvent: (e) => {
      if (e.type === 'log') seen.push(e.text);
    },
  });
  for (let i = 0; i < 50; i++) feed.publish(log(i));
  await waitFor(() => seen.length === 50, { what: 'watch to show the first 50 lines' });
  // Drop every client, as the server does with a slow one; publish more while it is away (in the same
  // turn of the event loop: nothing more goes out on the closing socket, it must come with the resume).
  server.disconnectAll(CLOSE.TOO_SLOW, 'test');
  for (let i = 50; i < 100; i++) feed.publish(log(i));
  feed.publish({ type: 'run-end', counts: emptyCounts(), verdict: 'passed', exitCode: 0 });
  expect(await done).toBe(0);
  expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => log(i).text));
});

test('feed addresses and message conversion', () => {
  expect(feedUrl('127.0.0.1:8', undefined, 0)).toBe('ws://127.0.0.1:8/feed?from=0');
  expect(feedUrl('http://h:8/', 'a b', 4)).toBe('ws://h:8/feed?token=a+b&from=4');
  expect(() => feedUrl('ftp://x', undefined, 0)).toThrow('not a feed address');
  const e = eventFor({
    v: 1,
    seq: 1,
    time: 0,
    type: 'result',
    lane: 0,
    path: ['s'],
    status: 'pass',
    leaf: false,
    counts: { ...emptyCounts(), total: 3 },
  });
  expect(e).toMatchObject({ type: 'test-end', path: ['s'], test: { name: 's', status: 'pass', plan: 3 } });
});

test('watch on a port that now serves another run (its feed behind what watch has): 409, a clear error, exit 4', async () => {
  const first = await start();
  first.feed.publish({ type: 'run-start', metadata: {}, lanes: 1 });
  for (let i = 0; i < 20; i++) first.feed.publish(log(i));
  const port = first.server.port;
  let shown = 0;
  const done = watchCommand({
    url: `127.0.0.1:${port}`,
    warn: () => {},
    onEvent: (e) => {
      if (e.type === 'log') shown++;
    },
  });
  const outcome = done.then(
    () => undefined,
    (e: unknown) => e as { code: string; exitCode: number; message: string },
  );
  await waitFor(() => shown === 20, { what: 'watch to show the first run' });
  await first.server.close(CLOSE.SERVER_STOPPING, 'restart');
  // Another run on the same port, with fewer messages than watch already showed.
  const second = await start({ port });
  second.feed.publish({ type: 'run-start', metadata: {}, lanes: 1 });
  const err = await outcome;
  expect(err).toMatchObject({ code: 'E_LIVE_HTTP', exitCode: 4 });
  expect(err?.message).toContain('another run now serves there');
}, 30_000);
