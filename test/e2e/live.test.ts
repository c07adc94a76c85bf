/**
 * The live feed against real runs of the fixture kernels under TCG: many
 * watchers, late joiners, reconnects, tokens, and `kunit-bridge watch`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useServedRuns } from '../helpers/live-run.js';

interface Msg {
  v: number;
  seq: number;
  type: string;
  status?: string;
  path?: string[];
  counts?: Record<string, number>;
  verdict?: string;
  exitCode?: number;
}

const serve = useServedRuns();

/** Collect messages until run-end (or close). */
function collect(url: string, opts: { stopAfter?: number } = {}): Promise<{ messages: Msg[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: Msg[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Msg;
      messages.push(m);
      if (opts.stopAfter !== undefined && messages.length >= opts.stopAfter) ws.terminate();
    });
    ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('close', (code) => resolve({ messages, code }));
    ws.on('error', () => {
      /* close follows */
    });
  });
}

function expectWholeRun(messages: Msg[]): void {
  expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
  expect(messages.every((m) => m.v === 1)).toBe(true);
  expect(messages[0]!.type).toBe('run-start');
  const end = messages.at(-1)!;
  expect(end.type).toBe('run-end');
  expect(end.counts).toMatchObject({ passed: 186, failed: 1, skipped: 5 });
  expect(end.exitCode).toBe(1);
  const leaves = messages.filter((m) => m.type === 'result' && (m as { leaf?: boolean }).leaf);
  expect(leaves).toHaveLength(192);
  expect(leaves.find((m) => m.path?.join('/') === 'rust_kunit_fixture/rust_fixture_fail')?.status).toBe('fail');
}

test('100 watchers of a real run each receive every event, in order', async () => {
  const run = await serve(['--serve', '127.0.0.1:0', '--serve-linger', '2']);
  const watchers = await Promise.all(Array.from({ length: 100 }, () => collect(run.feed)));
  expect(await run.exited).toBe(1);
  const reference = watchers[0]!.messages;
  expectWholeRun(reference);
  for (const w of watchers) {
    expect(w.code).toBe(1000);
    expect(w.messages.map((m) => JSON.stringify(m))).toEqual(reference.map((m) => JSON.stringify(m)));
  }
  // The feed agrees with the run's own report.
  const results = JSON.parse(readFileSync(join(run.out, 'results.json'), 'utf8'));
  expect(reference.at(-1)!.counts).toEqual(results.counts);
}, 60_000);

test('a watcher that drops out and resumes with ?from= misses nothing and gets nothing twice', async () => {
  const run = await serve(['--serve', '127.0.0.1:0', '--serve-linger', '2']);
  const seen: Msg[] = [];
  let from = 0;
  for (const cut of [5, 40, 90, 150]) {
    const part = await collect(`${run.feed}?from=${from}`, { stopAfter: cut - from });
    seen.push(...part.messages);
    from = seen.at(-1)!.seq;
  }
  const rest = await collect(`${run.feed}?from=${from}`);
  seen.push(...rest.messages);
  expect(await run.exited).toBe(1);
  expectWholeRun(seen);
}, 60_000);

test('a watcher that stops reading does not slow or stop the run', async () => {
  const run = await serve(['--serve', '127.0.0.1:0', '--serve-linger', '0']);
  const stalled = new WebSocket(run.feed);
  await new Promise((r) => stalled.once('open', r));
  // Stop reading: the server keeps publishing; this client's data queues up until it is dropped or the run ends.
  (stalled as unknown as { _socket: { pause(): void } })._socket.pause();
  const normal = await collect(run.feed);
  expect(await run.exited).toBe(1);
  expectWholeRun(normal.messages);
  stalled.terminate();
}, 60_000);

test('bound beyond loopback: a token is required; missing or wrong → 401, right → the feed', async () => {
  const run = await serve(['--serve', '0.0.0.0:0', '--serve-linger', '3']);
  expect(run.token).toBeTruthy();
  const bare = run.feed.replace(/\?token=.*$/, '');
  await expect(collect(bare)).rejects.toThrow('HTTP 401');
  await expect(collect(`${bare}?token=wrong`)).rejects.toThrow('HTTP 401');
  const page = await fetch(run.page.replace(/\?token=.*$/, ''));
  expect(page.status).toBe(401);
  expect(await page.text()).not.toContain('<html');
  const ok = await collect(run.feed);
  expectWholeRun(ok.messages);
  expect(await run.exited).toBe(1);
}, 60_000);

test('kunit-bridge watch shows the run and exits with its exit code; a wrong token is a clear error', async () => {
  const run = await serve(['--serve', '0.0.0.0:0', '--serve-linger', '3']);
  const address = run.feed.replace(/\/feed.*$/, '');
  const refused = await runCli(['watch', address, '--token', 'nope']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('refused the token (401)');
  const watched = await runCli(['watch', address, '--token', run.token!]);
  expect(watched.code).toBe(1);
  expect(watched.stdout).toContain('[FAILED] rust_fixture_fail');
  expect(watched.stdout).toContain('Testing complete. Ran 192 tests: passed: 186, failed: 1, skipped: 5');
  expect(await run.exited).toBe(1);
}, 60_000);
