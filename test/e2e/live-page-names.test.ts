/**
 * A suite named only by its result line (no `# Subtest:`, or another name there), on the live page in a
 * real headless Chromium: the page names its row as the parser names the test, with its cases below it,
 * once each, and none left running.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { KtapStream } from '../../runner/ktap/index.js';
import { LiveFeed } from '../../runner/live/feed.js';
import { messageFor } from '../../runner/live/protocol.js';
import { LiveServer } from '../../runner/live/server.js';
import { launchChromium } from '../helpers/chromium.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const LOG = [
  'KTAP version 1',
  '1..2',
  '  KTAP version 1',
  '  # Subtest: started_as',
  '  1..1',
  '  not ok 1 case_a',
  'not ok 1 ended_as',
  '  KTAP version 1',
  '  1..1',
  '  ok 1 case_b',
  'ok 2 unnamed',
  '',
];

test('rows take the name on the result line, their cases follow, behind a token too', async () => {
  const feed = new LiveFeed();
  const server = await LiveServer.start({ feed, host: '127.0.0.1', port: 0, token: 'n4mes' });
  try {
    feed.publish({ type: 'run-start', metadata: { arch: 'x86_64' }, lanes: 1, suitesTotal: 2 });
    const stream = new KtapStream({
      onEvent: (e) => {
        const m = messageFor(e, 0);
        if (m) feed.publish(m);
      },
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (res) => {
      if (res.status() >= 400) errors.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(server.pageUrl);
    await expect.poll(() => page.locator('body').getAttribute('data-state'), { timeout: 30_000 }).toBe('live');

    // The first suite, line by line while the page watches: started as "started_as", then ended as "ended_as".
    for (const line of LOG.slice(0, 6)) stream.write(Buffer.from(`${line}\n`));
    await expect.poll(() => page.locator('[data-path="started_as/case_a"]').count(), { timeout: 10_000 }).toBe(1);
    for (const line of LOG.slice(6)) stream.write(Buffer.from(`${line}\n`));
    const result = stream.finish();
    feed.publish({ type: 'run-end', counts: result.counts, verdict: result.verdict, exitCode: 1 });
    await expect.poll(() => page.locator('body').getAttribute('data-state'), { timeout: 10_000 }).toBe('finished');

    const rows = await page
      .locator('[data-path]')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-path')} ${e.getAttribute('data-status')}`));
    expect(rows).toEqual(['ended_as fail', 'ended_as/case_a fail', 'unnamed pass', 'unnamed/case_b pass']);
    expect(await page.locator('[data-path="ended_as"] > .row .name').textContent()).toBe('ended_as');
    expect(await page.getByTestId('count-total').textContent()).toBe('2');
    expect(await page.getByTestId('failures').locator('li').allTextContents()).toEqual([expect.stringContaining('ended_as › case_a')]);
    // Clicking the renamed suite's row still finds its node.
    const unnamed = page.locator('[data-path="unnamed"]');
    expect(await unnamed.getAttribute('aria-expanded')).toBe('false');
    await unnamed.locator('> .row').click();
    expect(await unnamed.getAttribute('aria-expanded')).toBe('true');
    // The filter searches the new names.
    await page.getByTestId('filter').fill('ended_as');
    await expect.poll(() => page.getByTestId('match-count').textContent(), { timeout: 10_000 }).toBe('1 of 2 tests');
    expect(errors).toEqual([]);
    await page.close();
  } finally {
    await server.close();
  }
});
