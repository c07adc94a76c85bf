/**
 * `kunit-bridge watch` against real hostile feeds: a real ws server on
 * loopback that sends what a broken or malicious feed would. Each case is the
 * real CLI: one line on stderr, exit 5 (E_LIVE_PROTOCOL), no reconnect loop.
 */
import { WebSocketServer } from 'ws';
import { afterEach, expect, test } from 'vitest';
import { emptyCounts } from '../../../runner/ktap/model.js';
import { ExitCode } from '../../../runner/exit-codes.js';
import { checkMessage } from '../../../runner/live/validate.js';
import { runCli } from '../../helpers/cli.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const MiB = 1024 * 1024;
const start = { v: 1, seq: 1, time: 1, type: 'run-start', metadata: {}, lanes: 1 };
const end = (extra: Record<string, unknown>): Record<string, unknown> => {
  const m: Record<string, unknown> = {
    v: 1,
    seq: 2,
    time: 2,
    type: 'run-end',
    counts: emptyCounts(),
    verdict: 'passed',
    exitCode: 0,
    ...extra,
  };
  for (const [k, v] of Object.entries(m)) if (v === undefined) delete m[k];
  return m;
};

/** A feed that sends `frames` to every client that connects; counts the connections. */
async function hostileFeed(frames: (string | Buffer)[]): Promise<{ url: string; connections: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    for (const f of frames) ws.send(f, { binary: Buffer.isBuffer(f) });
  });
  await new Promise((r) => wss.once('listening', r));
  const addr = wss.address();
  return { url: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, connections: () => connections };
}

const cases: [string, (string | Buffer)[], RegExp][] = [
  ['garbage', ['}{ not json'], /not JSON/],
  ['null', ['null'], /not a JSON object but null/],
  ['a binary message', [Buffer.from(JSON.stringify(start))], /binary message/],
  ['run-end without exitCode', [JSON.stringify(start), JSON.stringify(end({ exitCode: undefined }))], /run-end message 2: no "exitCode"/],
  ['run-end with exitCode 256', [JSON.stringify(start), JSON.stringify(end({ exitCode: 256 }))], /"exitCode" must be an integer 0\.\.255/],
  ['run-end with exitCode 1.5', [JSON.stringify(start), JSON.stringify(end({ exitCode: 1.5 }))], /"exitCode" must be an integer 0\.\.255/],
  ['v: 2', [JSON.stringify({ ...start, v: 2 })], /protocol version 2, this kunit-bridge speaks 1/],
  ['no v', [JSON.stringify({ ...start, v: undefined })], /protocol version missing/],
  [
    'a result with a bad status',
    [JSON.stringify(start), JSON.stringify({ v: 1, seq: 2, time: 2, type: 'result', lane: 0, path: ['s'], status: 'great', leaf: true })],
    /"status" must be a test status/,
  ],
  ['a gap in seq', [JSON.stringify(start), JSON.stringify(end({ seq: 5 }))], /message 5 came after 1/],
  ['a 100 MiB message', [JSON.stringify(start), `"${'x'.repeat(100 * MiB)}"`], /larger than 16777216 bytes/],
];

test.each(cases)(
  'watch on a feed that sends %s: exit 5, one clear line, no reconnect',
  async (_name, frames, message) => {
    const feed = await hostileFeed(frames);
    const r = await runCli(['watch', feed.url, '-q']);
    expect(r.code, r.stderr).toBe(ExitCode.PROTOCOL);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^kunit-bridge: the feed at .* broke the live protocol after message \d+: .*\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(feed.connections()).toBe(1);
  },
  60_000,
);

test('a well-formed feed with an unknown message type still ends with its exit code', async () => {
  const feed = await hostileFeed([
    JSON.stringify(start),
    JSON.stringify({ v: 1, seq: 2, time: 2, type: 'from-the-future', anything: [1] }),
    JSON.stringify({ ...end({ exitCode: 3, verdict: 'incomplete' }), seq: 3, extra: 'ignored' }),
  ]);
  const r = await runCli(['watch', feed.url, '-q']);
  expect(r.code, r.stderr).toBe(3);
});

test('every message type of protocol 1 passes its checker; a mistyped field of each fails it', () => {
  const counts = emptyCounts();
  const crash = { reason: 'Oops', kind: 'oops', trace: [], line: 3 };
  const good: Record<string, unknown>[] = [
    start,
    { type: 'document-start', lane: 0, document: 0 },
    { type: 'plan', lane: 0, path: [], count: 3 },
    { type: 'suite-start', lane: 0, path: ['s'] },
    {
      type: 'result',
      lane: 1,
      path: ['s', 't'],
      status: 'fail',
      leaf: true,
      durationMs: 1.5,
      reason: 'r',
      log: ['a'],
      location: { file: 'f.rs', line: 2 },
      crash,
      counts,
    },
    { type: 'log', lane: 0, path: ['s'], text: 'x', diagnostic: false },
    { type: 'crash', lane: 0, path: [], crash },
    { type: 'diagnostic', lane: 0, diagnostic: { code: 'no-plan', message: 'm', line: 1, severity: 'warning' } },
    { type: 'document-end', lane: 0, document: 0, complete: true },
    end({ flaky: ['s.t (1/3 failed)'], outputDir: '/o' }),
  ];
  for (const m of good) {
    const full: Record<string, unknown> = { ...m, v: 1, seq: 9, time: 9 };
    const checked = checkMessage(JSON.stringify(full));
    expect(checked, JSON.stringify(full)).toMatchObject({ ok: true, seq: 9, type: full['type'] });
    expect(checked.ok && checked.message).toBeTruthy();
    // Each required field, in turn, of the wrong type.
    for (const key of Object.keys(m).filter((k) => !['type', 'v', 'seq', 'time'].includes(k))) {
      const broken = checkMessage(JSON.stringify({ ...full, [key]: { wrong: true } }));
      expect(broken.ok, `${String(full['type'])}.${key}`).toBe(false);
    }
  }
  expect(checkMessage('[]')).toMatchObject({ ok: false, problem: 'not a JSON object but an array' });
  expect(checkMessage('{"v":1,"seq":0,"time":1,"type":"log"}')).toMatchObject({
    ok: false,
    problem: 'message "seq" must be an integer ≥ 1',
  });
});
