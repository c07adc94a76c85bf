/**
 * A real `run --serve` (the x86_64 fixture kernel in QEMU, TCG) under hostile
 * requests: none of them ends the run, which finishes with its own exit code
 * and writes its reports; and `--serve-linger` comes after the summary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { expect, test } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { useServedRuns } from '../helpers/live-run.js';
import { UPGRADE, head, rawRequest } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait-for.js';

const serve = useServedRuns();

/** The requests of issue 9, plain and as upgrades, with and without the token. */
const TARGETS = ['//x:99999/', '//[', '//%', '/\\x:99999/', 'http://x:99999/feed'];

/** The `run-end` of the feed, read from the start by a fresh client. */
function runEnd(url: string): Promise<{ exitCode?: number; counts?: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; exitCode?: number; counts?: Record<string, number> };
      if (m.type === 'run-end') {
        ws.close();
        resolve(m);
      }
    });
    ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('close', () => reject(new Error('closed before run-end')));
    ws.on('error', () => {
      /* close follows */
    });
  });
}

test('hostile requests to a real run --serve 0.0.0.0 with a token: each refused, the run gives its own verdict and reports', async () => {
  const junit = join(tempDir(), 'junit.xml');
  const run = await serve(['--serve', '0.0.0.0:0', '--serve-token', 'T0ken', '--serve-linger', '6', '--junit', junit], { quiet: false });
  const port = Number(new URL(run.feed).port);
  const host = { Host: `127.0.0.1:${port}` };
  for (const target of TARGETS) {
    for (const extra of [{}, UPGRADE]) {
      for (const t of [target, `${target}?token=T0ken`]) {
        const r = await rawRequest(port, head('GET', t, { ...host, ...extra }));
        expect(r.status, `${t} ${extra === UPGRADE ? 'upgrade' : 'plain'}`).toBe(400);
      }
    }
  }
  // DNS rebinding and another page's WebSocket, even with the right token.
  expect((await rawRequest(port, head('GET', '/feed?token=T0ken', { Host: `evil.example:${port}`, ...UPGRADE }))).status).toBe(421);
  expect((await rawRequest(port, head('GET', '/feed?token=T0ken', { ...host, Origin: 'http://evil.example', ...UPGRADE }))).status).toBe(
    403,
  );
  expect((await rawRequest(port, head('GET', '/feed?from=zz&token=T0ken', { ...host, ...UPGRADE }))).status).toBe(400);

  // The summary comes before the linger: once it is printed, the server still serves the whole run.
  let exited = false;
  void run.exited.then(() => {
    exited = true;
  });
  await waitFor(() => exited || run.stdout().includes('Testing complete.'), { timeoutMs: 150_000, everyMs: 50, what: 'the summary' });
  expect(run.stdout()).toContain('Testing complete. Ran 192 tests: passed: 186, failed: 1, skipped: 5');
  const end = await runEnd(run.feed);
  expect(end.exitCode).toBe(1);

  expect(await run.exited).toBe(1);
  const results = JSON.parse(readFileSync(join(run.out, 'results.json'), 'utf8')) as { counts: Record<string, number>; verdict: string };
  expect(results.verdict).toBe('failed');
  expect(results.counts).toEqual(end.counts);
  expect(existsSync(junit)).toBe(true);
  expect(readFileSync(junit, 'utf8')).toContain('rust_fixture_fail');
}, 180_000);
