/**
 * The gate on the live page, in a real headless Chromium: a real boot log
 * gated with a known file, its run-end (with the gate's lines) served by a
 * real LiveServer.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { gateLines } from '../../reporters/gate-summary.js';
import { applyGate } from '../../runner/gate/gate.js';
import { parseKnownFile } from '../../runner/gate/known.js';
import { KtapStream } from '../../runner/ktap/index.js';
import { LiveFeed } from '../../runner/live/feed.js';
import { messageFor } from '../../runner/live/protocol.js';
import { LiveServer } from '../../runner/live/server.js';
import { launchChromium } from '../helpers/chromium.js';
import { kernelFixture } from '../helpers/corpus.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

test("the page shows the gate's lines and the gate's verdict when the run ends", async () => {
  const feed = new LiveFeed();
  const server = await LiveServer.start({ feed, host: '127.0.0.1', port: 0 });
  try {
    feed.publish({ type: 'run-start', metadata: { arch: 'x86_64' }, lanes: 1 });
    const stream = new KtapStream({
      onEvent: (e) => {
        const m = messageFor(e, 0);
        if (m) feed.publish(m);
      },
    });
    stream.write(readFileSync(kernelFixture('x86_64-rust-kunit', 'boot.log')));
    const result = stream.finish();
    const gate = applyGate(result, {
      known: parseKnownFile('- test: rust_kunit_fixture.rust_fixture_fail\n  reason: on purpose\n', 'known.yaml'),
    });
    feed.publish({ type: 'run-end', counts: result.counts, verdict: result.verdict, exitCode: 0, gate: gateLines(gate) });

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.pageUrl);
    const section = page.getByTestId('gate');
    await expect.poll(() => section.isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await section.locator('li').allTextContents()).toEqual([
      'Known failures (do not fail the run) (1): rust_kunit_fixture.rust_fixture_fail (fail: on purpose)',
      'Gate: passed (1 known failure); the tests alone: failed',
    ]);
    expect(await page.getByTestId('verdict').textContent()).toBe('passed (exit 0)');
    expect(errors).toEqual([]);
    await page.close();
  } finally {
    await server.close();
  }
}, 120_000);
