/**
 * `kunit-bridge watch ws://HOST:PORT`: follow a run's live feed and show the
 * same live view as `run`, reconnecting and resuming (`?from=`) by itself.
 * Resolves with the run's exit code once `run-end` arrives. Every message is
 * checked (runner/live/validate.ts) and bounded in size: a feed that breaks
 * the protocol ends the watch with E_LIVE_PROTOCOL (exit 5), not a reconnect.
 */
import { warnStderr } from '../stdout.js';
import WebSocket from 'ws';
import { BridgeError } from '../errors.js';
import type { KtapDocument, KtapEvent, RunResult, TestNode } from '../ktap/model.js';
import type { LiveMessage } from '../live/protocol.js';
import { MAX_MESSAGE_BYTES, checkMessage } from '../live/validate.js';

export interface WatchRequest {
  url: string;
  token?: string;
  /** Give up after this many failed connection attempts in a row (default 20). */
  maxRetries?: number;
  onEvent: (event: KtapEvent, lane: number) => void;
  onStart?: (lanes: number, suitesTotal: number | undefined) => void;
  /** The run's end: counts and verdict (no tree), and the flaky tests it reported. */
  onEnd?: (result: RunResult, flaky: string[], gate: string[]) => void;
  warn?: (message: string) => void;
}

/** The feed URL for what the user typed: `ws://h:p`, `h:p`, `http://h:p/…`. */
export function feedUrl(input: string, token: string | undefined, from: number): string {
  let text = input.trim();
  if (!/^[a-z]+:\/\//i.test(text)) text = `ws://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BridgeError('E_USAGE', `not a feed address: ${input} (give ws://HOST:PORT)`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new BridgeError('E_USAGE', `not a feed address: ${input} (give ws://HOST:PORT)`);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/feed';
  if (token !== undefined) url.searchParams.set('token', token);
  url.searchParams.set('from', String(from));
  return url.toString();
}

/** A message as the parser event the live views understand. */
export function eventFor(m: LiveMessage): KtapEvent | undefined {
  switch (m.type) {
    case 'document-start':
      return { type: 'document-start', document: m.document, line: 0 };
    case 'plan':
      return { type: 'plan', path: m.path, count: m.count, line: 0 };
    case 'suite-start':
      return { type: 'test-start', path: m.path, line: 0 };
    case 'log':
      return { type: 'log', path: m.path, text: m.text, line: 0, diagnostic: m.diagnostic };
    case 'crash':
      return { type: 'crash', path: m.path, crash: m.crash };
    case 'diagnostic':
      return { type: 'diagnostic', diagnostic: m.diagnostic };
    case 'document-end': {
      const document: KtapDocument = {
        index: m.document,
        tests: [],
        log: [],
        complete: m.complete,
        startLine: 0,
        endLine: 0,
        attributes: {},
      };
      return { type: 'document-end', document };
    }
    case 'result': {
      const test: TestNode = {
        name: m.path[m.path.length - 1] ?? '',
        status: m.status,
        log: m.log ?? [],
        children: [],
        attributes: {},
        line: 0,
      };
      if (m.durationMs !== undefined) test.durationMs = m.durationMs;
      if (m.reason !== undefined) test.reason = m.reason;
      if (m.crash) test.crash = m.crash;
      if (m.location) test.location = m.location;
      // The views tell suites from cases by a plan: give a suite its size.
      if (!m.leaf) test.plan = m.counts?.total ?? 0;
      return { type: 'test-end', path: m.path, test, document: 0 };
    }
    default:
      return undefined;
  }
}

export function watchCommand(req: WatchRequest): Promise<number> {
  const warn = req.warn ?? warnStderr;
  const maxRetries = req.maxRetries ?? 20;
  let lastSeq = 0;
  let failures = 0;
  feedUrl(req.url, req.token, 0); // validate before connecting
  return new Promise((resolve, reject) => {
    const connect = (): void => {
      const ws = new WebSocket(feedUrl(req.url, req.token, lastSeq), { maxPayload: MAX_MESSAGE_BYTES });
      let ended = false;
      const broken = (problem: string): void => {
        if (ended) return;
        ended = true;
        ws.terminate();
        reject(
          new BridgeError(
            'E_LIVE_PROTOCOL',
            `the feed at ${req.url} broke the live protocol after message ${lastSeq}: ${problem} (is it a kunit-bridge run --serve of this version?)`,
          ),
        );
      };
      ws.on('unexpected-response', (_req, res) => {
        ended = true;
        ws.terminate();
        if (res.statusCode === 401) {
          reject(
            new BridgeError('E_LIVE_AUTH', `the feed at ${req.url} refused the token (401): pass the token the run printed with --token`),
          );
        } else if (res.statusCode === 409) {
          reject(
            new BridgeError(
              'E_LIVE_HTTP',
              `the feed at ${req.url} has fewer than the ${lastSeq} messages already shown (409): another run now serves there`,
            ),
          );
        } else {
          reject(
            new BridgeError(
              'E_LIVE_HTTP',
              `the feed at ${req.url} answered HTTP ${res.statusCode}: is that a kunit-bridge run --serve address?`,
            ),
          );
        }
      });
      ws.on('open', () => {
        failures = 0;
      });
      ws.on('message', (data, isBinary) => {
        if (ended) return;
        if (isBinary) return broken('a binary message (the feed sends JSON text)');
        const checked = checkMessage(String(data));
        if (!checked.ok) return broken(checked.problem);
        const { seq, message: m } = checked;
        if (seq <= lastSeq) return;
        if (seq > lastSeq + 1) return broken(`message ${seq} came after ${lastSeq}: the feed skipped some`);
        lastSeq = seq;
        if (m === undefined) return; // a type this version does not know: ignored
        if (m.type === 'run-start') req.onStart?.(m.lanes, m.suitesTotal);
        else if (m.type === 'run-end') {
          ended = true;
          req.onEnd?.(
            { documents: [], diagnostics: [], counts: m.counts, verdict: m.verdict, lines: 0, metadata: {} },
            m.flaky ?? [],
            m.gate ?? [],
          );
          ws.close(1000);
          resolve(m.exitCode);
        } else {
          const e = eventFor(m);
          if (e) req.onEvent(e, 'lane' in m ? m.lane : 0);
        }
      });
      ws.on('error', (err: Error & { code?: string }) => {
        // ws's own codes: a frame too big (1009), invalid UTF-8, a bad opcode… — the feed, not the network.
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') broken(`a message larger than ${MAX_MESSAGE_BYTES} bytes`);
        else if (err.code?.startsWith('WS_ERR_')) broken(`an invalid WebSocket frame (${err.message})`);
      });
      ws.on('close', (code) => {
        if (ended) return;
        failures++;
        if (failures > maxRetries) {
          reject(
            new BridgeError(
              'E_LIVE_LOST',
              `lost the feed at ${req.url} (last message ${lastSeq}, close code ${code}) and could not reconnect ${maxRetries} times`,
            ),
          );
          return;
        }
        if (failures === 1) warn(`feed connection closed (code ${code}); reconnecting from message ${lastSeq}`);
        setTimeout(connect, Math.min(2000, 100 * 2 ** Math.min(failures, 5)));
      });
    };
    connect();
  });
}
