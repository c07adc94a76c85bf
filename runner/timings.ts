/**
 * `--timings FILE` / `--save-timings FILE`: suite and module times of an
 * earlier run, in a file CI can commit or cache, so every machine plans the
 * same shards (runner/shard-plan.ts).
 *
 *     { "kunitBridgeTimings": 1, "suites": { "memcpy": 4227 }, "modules": { "list-test.ko": 310 } }
 */
import { BridgeError } from './errors.js';
import { readJsonFile } from './read-json.js';
import type { RunResult, TestNode } from './ktap/model.js';
import type { TimingsFile } from './shard-plan.js';
import { writeFileAtomic } from './write-file.js';

const numbers = (v: unknown): v is Record<string, number> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);

/** Read and check a timings file; exit 2 naming the file when it is not one. */
export function readTimings(path: string): TimingsFile {
  const j = readJsonFile(path, 'E_TIMINGS', 'a file written by --save-timings') as Partial<TimingsFile> | null;
  if (j?.kunitBridgeTimings !== 1 || !numbers(j.suites) || !numbers(j.modules ?? {})) {
    throw new BridgeError(
      'E_TIMINGS',
      `${path}: not a kunit-bridge timings file (want {"kunitBridgeTimings":1,"suites":{name:ms},"modules":{file:ms}}): write one with --save-timings`,
    );
  }
  return { kunitBridgeTimings: 1, suites: j.suites, modules: j.modules ?? {} };
}

const sumDurations = (tests: TestNode[]): number => tests.reduce((a, t) => a + (t.durationMs ?? 0), 0);

/** The timings of a finished run: top-level suite durations and each module document's. */
export function timingsOf(result: RunResult): TimingsFile {
  const out: TimingsFile = { kunitBridgeTimings: 1, suites: {}, modules: {} };
  for (const d of result.documents) {
    if (d.origin?.kind === 'module' && d.origin.module) {
      const ms = sumDurations(d.tests);
      if (ms > 0) out.modules[d.origin.module] = Math.round(ms);
      continue;
    }
    for (const t of d.tests) if (t.durationMs !== undefined && t.status !== 'not-run') out.suites[t.name] = Math.round(t.durationMs);
  }
  return out;
}

/** Write `--save-timings FILE`, merged over what the file already held (suites not run this time keep their time). */
export function saveTimings(path: string, result: RunResult): void {
  let old: TimingsFile | undefined;
  try {
    old = readTimings(path);
  } catch {
    old = undefined;
  }
  const fresh = timingsOf(result);
  const merged: TimingsFile = {
    kunitBridgeTimings: 1,
    suites: sortKeys({ ...old?.suites, ...fresh.suites }),
    modules: sortKeys({ ...old?.modules, ...fresh.modules }),
  };
  writeFileAtomic(path, `${JSON.stringify(merged, null, 1)}\n`);
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
