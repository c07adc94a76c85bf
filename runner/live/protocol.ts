/**
 * The live feed protocol, version 1 (docs/live-protocol.md). Pure: the
 * parser's events in, JSON-ready messages out. Every message is
 * `{v, seq, type, ...}`; `seq` counts from 1 without gaps, so a client that
 * reconnects with `?from=<last seq it has>` gets exactly what it missed.
 */
import type { Counts, CrashInfo, Diagnostic, KtapEvent, Location, TestStatus, Verdict } from '../ktap/model.js';
import { countLeaves } from '../ktap/model.js';

export const PROTOCOL_VERSION = 1;

interface Base {
  v: 1;
  seq: number;
  time: number;
}

export type LiveMessage = Base &
  (
    | { type: 'run-start'; metadata: Record<string, string>; lanes: number; suitesTotal?: number }
    | { type: 'document-start'; lane: number; document: number }
    | { type: 'plan'; lane: number; path: string[]; count: number }
    | { type: 'suite-start'; lane: number; path: string[] }
    | {
        type: 'result';
        lane: number;
        path: string[];
        status: TestStatus;
        leaf: boolean;
        durationMs?: number;
        reason?: string;
        log?: string[];
        location?: Location;
        crash?: CrashInfo;
        /** For a suite or parameterised test: its leaf counts. */
        counts?: Counts;
      }
    | { type: 'log'; lane: number; path: string[]; text: string; diagnostic: boolean }
    | { type: 'crash'; lane: number; path: string[]; crash: CrashInfo }
    | { type: 'diagnostic'; lane: number; diagnostic: Diagnostic }
    | { type: 'document-end'; lane: number; document: number; complete: boolean }
    /**
     * `flaky`: with run --repeat, the tests that passed in one attempt and failed in another (`suite.test (1/3 failed)`).
     * `gate`: with --known/--baseline, the gate's summary lines (known failures, regressions, …, `Gate: …`); `verdict` is the gate's.
     */
    | { type: 'run-end'; counts: Counts; verdict: Verdict; exitCode: number; outputDir?: string; flaky?: string[]; gate?: string[] }
  );

/** A message before its sequence number and time are stamped. */
export type LiveBody = LiveMessage extends infer M ? (M extends Base ? Omit<M, keyof Base> : never) : never;

/** Convert one parser event of `lane` into the message to broadcast (undefined: not sent). */
export function messageFor(e: KtapEvent, lane: number): LiveBody | undefined {
  switch (e.type) {
    case 'document-start':
      return { type: 'document-start', lane, document: e.document };
    case 'plan':
      return { type: 'plan', lane, path: e.path, count: e.count };
    case 'test-start':
      return { type: 'suite-start', lane, path: e.path };
    case 'log':
      return { type: 'log', lane, path: e.path, text: e.text, diagnostic: e.diagnostic };
    case 'crash':
      return { type: 'crash', lane, path: e.path, crash: e.crash };
    case 'diagnostic':
      return { type: 'diagnostic', lane, diagnostic: e.diagnostic };
    case 'document-end':
      return { type: 'document-end', lane, document: e.document.index, complete: e.document.complete };
    case 'test-end': {
      const t = e.test;
      const leaf = t.children.length === 0;
      const m: LiveBody & { type: 'result' } = { type: 'result', lane, path: e.path, status: t.status, leaf };
      if (t.durationMs !== undefined) m.durationMs = t.durationMs;
      if (t.reason !== undefined) m.reason = t.reason;
      if (t.location) m.location = t.location;
      if (t.crash) m.crash = t.crash;
      if (t.log.length > 0) m.log = t.log;
      if (!leaf) m.counts = countLeaves(t);
      return m;
    }
  }
}
