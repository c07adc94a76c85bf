/**
 * Random hostile input for the agent server, from a seed: request heads
 * (targets, headers) and frames (valid frames with a field broken, dropped
 * or added; garbage). Bounded by the caller's count.
 */
import type { Prng } from './prng.js';
import { HOSTILE_TARGETS } from './raw-http.js';

const pick = <T>(rng: Prng, items: readonly T[]): T => items[rng.int(items.length)]!;
const CHARS = ['/', '%', '[', ']', ':', '?', '&', '=', '#', '@', '\\', '.', 'a', '0', '9', '\u00ff', '%00', '%zz', '//', 'agent', 'token'];
const junk = (rng: Prng, max: number): string => Array.from({ length: rng.int(max) }, () => pick(rng, CHARS)).join('');

/** A request head: a random target (built from odd pieces, or a known hostile one), maybe an upgrade, odd headers. */
export function randomRequest(rng: Prng, token: string): string {
  const target =
    rng.int(3) === 0
      ? pick(rng, HOSTILE_TARGETS)
      : rng.int(2) === 0
        ? `/agent?token=${rng.int(2) ? token : junk(rng, 8)}${junk(rng, 4)}`
        : junk(rng, 24) || '/';
  const method = pick(rng, ['GET', 'GET', 'GET', 'POST', 'HEAD', 'OPTIONS', 'G\u00e9T', '']);
  const headers = ['Host: 127.0.0.1'];
  if (rng.int(2))
    headers.push(
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${rng.int(4) ? 'dGhlIHNhbXBsZSBub25jZQ==' : junk(rng, 10)}`,
      `Sec-WebSocket-Version: ${pick(rng, ['13', '8', 'x', ''])}`,
    );
  if (rng.int(4) === 0) headers.push(`Origin: ${pick(rng, ['http://evil.example', 'null', ''])}`);
  if (rng.int(4) === 0) headers.push(`${junk(rng, 6) || 'X'}: ${junk(rng, 12)}`);
  if (rng.int(8) === 0) headers.push(`Content-Length: ${pick(rng, ['-1', '99999999999', 'x'])}`);
  return `${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
}

const VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  '',
  '1',
  'x'.repeat(70),
  [],
  ['x'],
  [1],
  {},
  { t: 'sync' },
  Number.MAX_SAFE_INTEGER + 2,
];
const FRAMES: Record<string, unknown>[] = [
  { t: 'hello', v: 1, boot: 'forged', next: 1, uptime: 1, node: 'v20' },
  { t: 'lines', from: 1, lines: ['[    0.000000] KTAP version 1', '[    0.000000] 1..1', '[    0.000000] ok 1 forged_suite'] },
  { t: 'sync' },
  { t: 'ready', after: 0, outcome: { status: 0, ms: 1 } },
  { t: 'bye', last: 3, summary: 'forged' },
];

/** A frame as text: a valid one with one thing changed, or garbage. */
export function randomFrame(rng: Prng): string {
  const f: Record<string, unknown> = { ...pick(rng, FRAMES) };
  const keys = Object.keys(f);
  switch (rng.int(6)) {
    case 0:
      f[pick(rng, keys)] = pick(rng, VALUES);
      break;
    case 1:
      delete f[
        pick(
          rng,
          keys.filter((k) => k !== 't'),
        ) ?? 't'
      ];
      break;
    case 2:
      f[junk(rng, 5) || 'extra'] = pick(rng, VALUES);
      break;
    case 3:
      f['t'] = pick(rng, ['welcome', 'ack', 'step', 'done', '', 'HELLO', 'constructor', '__proto__']);
      break;
    case 4:
      return JSON.stringify(f).slice(0, rng.int(30));
    default:
      return junk(rng, 40);
  }
  return JSON.stringify(f);
}
