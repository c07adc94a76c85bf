/**
 * The live web page in a real headless Chromium, fed by a real boot log
 * replayed through the parser into a LiveFeed/LiveServer: a finished run,
 * a run followed live, and a page whose WebSocket is cut twice mid-run.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page, WebSocket as PageSocket } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { KtapStream, parseLog, type RunResult } from '../../runner/ktap/index.js';
import { LiveFeed } from '../../runner/live/feed.js';
import { messageFor, type LiveMessage } from '../../runner/live/protocol.js';
import { LiveServer } from '../../runner/live/server.js';
import { launchChromium } from '../helpers/chromium.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BOOT_LOG = resolve(HERE, '../../../shared/fixtures/kernels/x86_64-rust-kunit/boot.log');
const SCREENSHOT = join(tmpdir(), 'kunit-bridge-live-page.png');
const FAIL_PATH = 'rust_kunit_fixture/rust_fixture_fail';
const FAIL_TEXT = 'Expected answer == 43 to be true, but is false';

const LOG = readFileSync(BOOT_LOG);
const LINES = LOG.toString('latin1')
  .split(/(?<=\n)/)
  .map((l) => Buffer.from(l, 'latin1'));
/** The parse of the whole log, for what the page must end up showing. */
const FINAL = parseLog(LOG);
const SUITES = FINAL.documents.reduce((n, d) => n + d.tests.length, 0);

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const servers: LiveServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A feed and server, and a replay of the boot log into the feed that can be paused. */
async function replayServer(token?: string): Promise<{
  feed: LiveFeed;
  server: LiveServer;
  stream: KtapStream;
  /** Publish run-start. */ begin(): void;
  /** Feed lines [from, to) of the log to the parser. */ write(from: number, to: number): void;
  /** Finish the parse and publish run-end. */ end(flaky?: string[]): RunResult;
}> {
  const feed = new LiveFeed();
  const server = await LiveServer.start({ feed, host: '127.0.0.1', port: 0, ...(token ? { token } : {}) });
  servers.push(server);
  const stream = new KtapStream({
    onEvent: (e) => {
      const m = messageFor(e, 0);
      if (m) feed.publish(m);
    },
  });
  return {
    feed,
    server,
    stream,
    begin() {
      feed.publish({
        type: 'run-start',
        lanes: 1,
        suitesTotal: SUITES,
        metadata: {
          kernel: '../shared/fixtures/kernels/x86_64-rust-kunit/bzImage',
          arch: 'x86_64',
          accel: 'tcg',
          qemu: 'qemu-system-x86_64',
        },
      });
    },
    write(from, to) {
      for (const line of LINES.slice(from, to)) stream.write(line);
    },
    end(flaky) {
      const result = stream.finish();
      feed.publish({ type: 'run-end', counts: result.counts, verdict: result.verdict, exitCode: 1, ...(flaky ? { flaky } : {}) });
      return result;
    },
  };
}

/** Every test row path the page should end with, once each: all results below a suite. */
function expectedRows(feed: LiveFeed): string[] {
  const paths = new Set<string>();
  for (const json of feed.since(0)) {
    const m = JSON.parse(json) as LiveMessage;
    if (m.type === 'result' && m.path.length >= 2) paths.add(m.path.join('/'));
  }
  return [...paths].sort();
}

async function rowPaths(page: Page, visibleOnly = false): Promise<string[]> {
  const rows = page.locator(`[data-path]:not([data-kind="suite"])${visibleOnly ? ':visible' : ''}`);
  const paths = await rows.evaluateAll((els) => els.map((e) => String(e.getAttribute('data-path'))));
  return paths.sort();
}

/** A fresh page that records script errors and failed loads (a 401 on app.js shows up here). */
async function openPage(url: string, options: Parameters<Browser['newPage']>[0] = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage(options);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`${res.status()} ${res.url()}`);
  });
  await page.goto(url);
  return { page, errors };
}

const text = (page: Page, id: string): Promise<string | null> => page.getByTestId(id).textContent();
const state = (page: Page): Promise<string | null> => page.locator('body').getAttribute('data-state');
const seq = async (page: Page): Promise<number> => Number(await page.locator('body').getAttribute('data-seq'));

async function expectFinalPage(page: Page, feed: LiveFeed): Promise<void> {
  await expect.poll(() => state(page), { timeout: 10_000 }).toBe('finished');
  expect(await seq(page)).toBe(feed.lastSeq);
  expect(await text(page, 'count-passed')).toBe('186');
  expect(await text(page, 'count-failed')).toBe('1');
  expect(await text(page, 'count-skipped')).toBe('5');
  expect(await text(page, 'count-crashed')).toBe('0');
  expect(await text(page, 'verdict')).toContain('failed');
  expect(await page.getByTestId('verdict').getAttribute('data-verdict')).toBe('failed');
  expect(await page.getByTestId('progress').getAttribute('data-done')).toBe(String(SUITES));
  // Every test once, none twice.
  expect(await rowPaths(page)).toEqual(expectedRows(feed));
  // The failure: marked, expanded, its assertion readable.
  const fail = page.locator(`[data-path="${FAIL_PATH}"]`);
  expect(await fail.getAttribute('data-status')).toBe('fail');
  // Its badge's colour comes from the status rules (runner/ktap/status.ts, served as status.js).
  expect(await fail.locator('.badge').first().getAttribute('data-effect')).toBe('fail');
  expect(await fail.getByText(FAIL_TEXT).isVisible()).toBe(true);
  expect(await page.getByTestId('failures').getByText('rust_fixture_fail').isVisible()).toBe(true);
}

test('a finished run: counts, verdict, the failure and its log, the filter', async () => {
  expect(FINAL.counts).toMatchObject({ passed: 186, failed: 1, skipped: 5 });
  const r = await replayServer();
  r.begin();
  r.write(0, LINES.length);
  const result = r.end();
  expect(result.counts).toEqual(FINAL.counts);

  const { page, errors } = await openPage(r.server.pageUrl, { viewport: { width: 1280, height: 900 } });
  await expectFinalPage(page, r.feed);
  expect(await page.getByTestId('meta').textContent()).toMatch(/x86_64[\s\S]*tcg[\s\S]*1/);
  expect(await page.getByTestId('flaky').isHidden()).toBe(true);

  // Passing suites are folded; the failing one is open.
  expect(await page.locator('[data-path="example/example_simple_test"]').isVisible()).toBe(false);
  expect(await page.locator(`[data-path="${FAIL_PATH}"]`).isVisible()).toBe(true);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  const all = expectedRows(r.feed);
  const filter = page.getByTestId('filter');
  await filter.fill('rust_fixture');
  const matching = all.filter((p) => p.includes('rust_fixture'));
  expect(matching.length).toBeGreaterThan(1);
  await expect.poll(() => rowPaths(page, true)).toEqual(matching);
  await filter.fill('PARAMS_TEST');
  await expect.poll(() => rowPaths(page, true)).toEqual(all.filter((p) => p.toLowerCase().includes('params_test')));
  await filter.fill('no such test anywhere');
  await expect.poll(() => rowPaths(page, true)).toEqual([]);
  await filter.fill('');
  await page.getByTestId('failures-only').check();
  await expect.poll(() => rowPaths(page, true)).toEqual([FAIL_PATH]);
  await page.getByTestId('failures-only').uncheck();
  await expect.poll(async () => (await rowPaths(page, true)).length).toBeLessThan(all.length); // folded again
  expect(errors).toEqual([]);
  await page.close();
});

test('a repeated run that found flaky tests lists them when it ends', async () => {
  const r = await replayServer();
  r.begin();
  r.write(0, LINES.length);
  r.end(['rust_kunit_fixture.rust_fixture_add (1/3 failed)', 'example.example_simple_test (2/3 failed)']);
  const { page, errors } = await openPage(r.server.pageUrl);
  await expectFinalPage(page, r.feed);
  const flaky = page.getByTestId('flaky');
  expect(await flaky.isVisible()).toBe(true);
  expect(await flaky.locator('li').allTextContents()).toEqual([
    'rust_kunit_fixture.rust_fixture_add (1/3 failed)',
    'example.example_simple_test (2/3 failed)',
  ]);
  expect(await page.locator('#flaky-count').textContent()).toBe('(2)');
  expect(errors).toEqual([]);
  await page.close();
});

test('a run followed live: half before the page connects, the rest after', async () => {
  const r = await replayServer();
  r.begin();
  const half = Math.floor(LINES.length / 2);
  r.write(0, half);
  const { page, errors } = await openPage(r.server.pageUrl);
  await expect.poll(() => seq(page)).toBe(r.feed.lastSeq);
  expect(await state(page)).toBe('live');
  expect(await text(page, 'verdict')).toBe('running');
  const partial = Number(await text(page, 'count-passed'));
  expect(partial).toBeGreaterThan(0);
  expect(partial).toBeLessThan(186);
  expect(await page.getByTestId('progress').getAttribute('data-total')).toBe(String(SUITES));

  // The rest arrives over the open socket, in small bursts like a real console.
  for (let i = half; i < LINES.length; i += 40) {
    r.write(i, Math.min(i + 40, LINES.length));
    await expect.poll(() => seq(page)).toBe(r.feed.lastSeq); // the page shows each burst as it comes
  }
  r.end();
  await expectFinalPage(page, r.feed);
  expect(errors).toEqual([]);
  await page.close();
});

test('cut mid-run (4001, then a dead socket): the page resumes from its last seq, nothing twice', async () => {
  const r = await replayServer('s3cret');
  expect(r.server.pageUrl).toContain('token=s3cret');
  const page = await browser.newPage();
  const urls: string[] = [];
  const sockets: PageSocket[] = [];
  page.on('websocket', (ws) => {
    urls.push(ws.url());
    sockets.push(ws);
  });
  const failed: string[] = [];
  page.on('pageerror', (e) => failed.push(String(e)));
  page.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
  });
  await page.goto(r.server.pageUrl);
  await expect.poll(() => state(page)).toBe('live');

  r.begin();
  const third = Math.floor(LINES.length / 3);
  r.write(0, third);
  const first = r.feed.lastSeq;
  await expect.poll(() => seq(page)).toBe(first);

  // The server gives up on the client as too slow; the run goes on meanwhile.
  r.server.disconnectAll(4001, 'too slow (test)');
  r.write(third, 2 * third);
  const second = r.feed.lastSeq;
  await expect.poll(() => seq(page), { timeout: 10_000 }).toBe(second);
  expect(urls.length).toBe(2);

  // Now the connection just dies (no close frame).
  r.server.disconnectAll(1006, '', true);
  r.write(2 * third, LINES.length);
  r.end();
  await expectFinalPage(page, r.feed);

  expect(urls.length).toBe(3);
  const from = urls.map((u) => new URL(u));
  expect(from.map((u) => u.pathname)).toEqual(['/feed', '/feed', '/feed']);
  expect(from.map((u) => u.searchParams.get('token'))).toEqual(['s3cret', 's3cret', 's3cret']);
  expect(from[0]!.searchParams.get('from')).toBe('0');
  expect(Number(from[1]!.searchParams.get('from'))).toBe(first);
  expect(Number(from[2]!.searchParams.get('from'))).toBe(second);
  // run-end received: no more reconnecting, even when the server goes away.
  await r.server.close();
  servers.splice(servers.indexOf(r.server), 1);
  await expect.poll(() => sockets.at(-1)!.isClosed()).toBe(true);
  // A page that meant to reconnect says so at once, in its close handler ("…; retrying in 1 s").
  expect(await text(page, 'connection')).toBe('');
  expect(urls.length).toBe(3);
  expect(await state(page)).toBe('finished');
  expect(failed).toEqual([]);
  await page.close();
});

test('another web page cannot read the feed or frame the page; a rebinding name is refused', async () => {
  const r = await replayServer();
  r.begin();
  r.write(0, 200);
  // A page of another origin (another loopback port) that tries the feed and a frame of the live page.
  const { createServer } = await import('node:http');
  const other = createServer((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other</title>'));
  await new Promise<void>((res) => other.listen(0, '127.0.0.1', res));
  const otherPort = (other.address() as { port: number }).port;
  const rebinding = await launchChromium([`--host-resolver-rules=MAP rebound.example 127.0.0.1`]);
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${otherPort}/`);
    const feed = `ws://127.0.0.1:${r.server.port}/feed`;
    const got = await page.evaluate(
      (url) =>
        new Promise<{ messages: number; code: number }>((resolve) => {
          const ws = new WebSocket(url);
          let messages = 0;
          ws.onmessage = () => {
            messages++;
          };
          ws.onclose = (e) => resolve({ messages, code: e.code });
        }),
      feed,
    );
    expect(got).toEqual({ messages: 0, code: 1006 });
    // Framed, the live page is refused by the browser (frame-ancestors 'none', X-Frame-Options DENY).
    await page.setContent(`<iframe src="${r.server.pageUrl}"></iframe>`, { waitUntil: 'load' });
    const child = page.frames().find((f) => f !== page.mainFrame());
    expect(child).toBeDefined();
    expect(await child!.locator('[data-testid="state"]').count()).toBe(0);
    await page.close();

    // DNS rebinding: a name that resolves to 127.0.0.1 gets neither the page nor, from its page, the feed.
    const rebound = await rebinding.newPage();
    const res = await rebound.goto(`http://rebound.example:${r.server.port}/`);
    expect(res?.status()).toBe(421);
    expect(await rebound.content()).not.toContain('kunit-bridge live');
    const fromRebound = await rebound.evaluate(
      (url) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(url);
          ws.onclose = (e) => resolve(e.code);
        }),
      `ws://rebound.example:${r.server.port}/feed`,
    );
    expect(fromRebound).toBe(1006);
  } finally {
    await rebinding.close();
    other.close();
  }
  // The page's own origin still follows the run.
  r.write(200, LINES.length);
  r.end();
  const { page, errors } = await openPage(r.server.pageUrl);
  await expectFinalPage(page, r.feed);
  expect(errors).toEqual([]);
  await page.close();
});

test('a real run: kunit-bridge run --serve booting the fixture kernel in QEMU, watched in Chromium', async () => {
  const { spawn } = await import('node:child_process');
  const { CLI, tempDir } = await import('../helpers/cli.js');
  const { REPO, kernelFixture } = await import('../helpers/corpus.js');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'run',
      '--kernel',
      kernelFixture('x86_64-rust-kunit', 'bzImage'),
      '--accel',
      'tcg',
      '-j',
      '1',
      '-q',
      '-o',
      tempDir(),
      '--serve',
      '127.0.0.1:0',
      '--serve-linger',
      '15',
    ],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /live: page (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on('close', (code) => reject(new Error(`run exited ${code} before serving: ${err}`)));
    });
    // The page opens while QEMU boots, and follows the run live to its end.
    const { page, errors } = await openPage(url);
    await expect.poll(() => state(page), { timeout: 30_000 }).toBe('finished');
    expect(await text(page, 'count-passed')).toBe('186');
    expect(await text(page, 'count-failed')).toBe('1');
    expect(await text(page, 'count-skipped')).toBe('5');
    expect(await page.getByTestId('verdict').getAttribute('data-verdict')).toBe('failed');
    const fail = page.locator(`[data-path="${FAIL_PATH}"]`);
    expect(await fail.getAttribute('data-status')).toBe('fail');
    expect(await fail.getByText(FAIL_TEXT).isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(tmpdir(), 'kunit-bridge-live-page-real-run.png'), fullPage: true });
    await page.close();
  } finally {
    child.kill('SIGTERM');
  }
}, 60_000);
