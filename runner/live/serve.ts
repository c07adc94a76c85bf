/**
 * Wiring a run to the live feed: a LiveFeed fed from the run's events, a
 * LiveServer on the asked address, and the closing `run-end`.
 */
import { BridgeError } from '../errors.js';
import { flakyTests, type KtapEvent } from '../ktap/model.js';
import type { ListedSuite } from '../ktap/test-list.js';
import type { Lane } from '../shard.js';
import type { RunResult } from '../ktap/model.js';
import { gateLines } from '../../reporters/gate-summary.js';
import { LiveFeed } from './feed.js';
import { messageFor } from './protocol.js';
import { LiveServer, isLoopback, parseListen } from './server.js';

/** What the feed's `run-end` tells of a finished run (a `run` outcome is one; the live layer needs no more). */
export interface FinishedRun {
  result: RunResult;
  outputDir: string;
}

export interface LiveRun {
  server: LiveServer;
  feed: LiveFeed;
  onEvent(e: KtapEvent, lane: number): void;
  onPlan(lanes: Lane[], suites: ListedSuite[] | undefined, metadata: Record<string, string>): void;
  /** Publish `run-end` (nothing without an outcome, or a second time). */
  end(outcome: FinishedRun | undefined, exitCode: number): void;
  /** Keep serving for `lingerMs` (late watchers still get the whole run), then close every client and stop. */
  close(lingerMs: number): Promise<void>;
  /** `end`, then `close`. */
  finish(outcome: FinishedRun | undefined, exitCode: number, lingerMs: number): Promise<void>;
}

export async function startLive(spec: string, token: string | undefined, say: (line: string) => void): Promise<LiveRun> {
  const listen = parseListen(spec);
  if (!listen) throw new BridgeError('E_USAGE', `--serve wants [HOST:]PORT, not "${spec}"`);
  const feed = new LiveFeed();
  let server: LiveServer;
  try {
    server = await LiveServer.start({ feed, host: listen.host, port: listen.port, token });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE'
        ? 'the port is in use (pick another, or 0 for any)'
        : e.code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : e.code === 'EADDRNOTAVAIL'
            ? 'no such address on this machine'
            : e.message;
    throw new BridgeError('E_LIVE_LISTEN', `cannot serve the live feed on ${spec}: ${why}`);
  }
  say(`live: page ${server.pageUrl}  feed ${server.feedUrl}`);
  if (server.token && !token && !isLoopback(listen.host)) say(`live: bound beyond loopback, token ${server.token} (watch with --token)`);
  const run: LiveRun = {
    server,
    feed,
    onEvent(e, lane) {
      const m = messageFor(e, lane);
      if (m) feed.publish(m);
    },
    onPlan(lanes, suites, metadata) {
      const start = { type: 'run-start' as const, metadata, lanes: lanes.length };
      feed.publish(suites ? { ...start, suitesTotal: suites.length } : start);
    },
    end(outcome, exitCode) {
      if (!outcome || feed.ended) return;
      const flaky = flakyTests(outcome.result);
      feed.publish({
        type: 'run-end',
        counts: outcome.result.counts,
        verdict: outcome.result.verdict,
        exitCode,
        outputDir: outcome.outputDir,
        ...(flaky.length > 0 ? { flaky } : {}),
        ...(outcome.result.gate ? { gate: gateLines(outcome.result.gate) } : {}),
      });
    },
    async close(lingerMs) {
      if (lingerMs > 0) await new Promise((r) => setTimeout(r, lingerMs));
      await server.close();
    },
    async finish(outcome, exitCode, lingerMs) {
      run.end(outcome, exitCode);
      await run.close(lingerMs);
    },
  };
  return run;
}
