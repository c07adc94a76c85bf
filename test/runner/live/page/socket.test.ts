/**
 * The live page's connection helpers (runner/live/page/socket.js, plain browser JavaScript imported as is):
 * the feed's address and the reconnect back-off. The socket itself runs in Chromium (test/e2e/live-page.test.ts).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';
import { REPO } from '../../../helpers/corpus.js';

const { feedUrl, retryDelay } = (await import(pathToFileURL(join(REPO, 'runner/live/page/socket.js')).href)) as {
  feedUrl(pageHref: string, from: number, token: string | null): string;
  retryDelay(attempt: number, code: number, random?: number): number;
};

test("the feed beside the page, from the last message the page has, with the token; the page's own query dropped", () => {
  expect(feedUrl('http://127.0.0.1:8080/?token=a%2Bb#x', 41, 'a+b')).toBe('ws://127.0.0.1:8080/feed?from=41&token=a%2Bb');
  expect(feedUrl('https://box.example.org/live/index.html', 0, null)).toBe('wss://box.example.org/live/feed?from=0');
});

test('back-off: 250 ms doubling to 10 s, ±20 % jitter, four times slower from a stopping server (1001)', () => {
  expect([0, 1, 2, 3, 6, 20].map((a) => retryDelay(a, 1006, 0.5))).toEqual([250, 500, 1000, 2000, 10000, 10000]);
  expect(retryDelay(0, 1006, 0)).toBe(200);
  expect(retryDelay(0, 1006, 1)).toBe(300);
  expect(retryDelay(0, 1001, 0.5)).toBe(1000);
  expect(retryDelay(5, 1001, 0.5)).toBe(10000);
});
