/**
 * Reading a native results.json (docs/json-format.md) back into the model,
 * for `merge`. A file of another schemaVersion, or not one at all, is a
 * usage error naming the file.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BridgeError } from './errors.js';
import { readJsonFile } from './read-json.js';
import { ExitCode } from './exit-codes.js';
import type { KtapDocument, RunResult, TestNode } from './ktap/model.js';
import { SCHEMA_VERSION } from '../reporters/json.js';

type Json = Record<string, unknown>;

function bad(path: string, what: string): never {
  throw new BridgeError('E_RESULTS', 'input', ExitCode.USAGE, `${path}: ${what}`);
}

/** `path` itself, or `path/results.json` when it is a directory (a run's output dir). */
export function resultsPath(path: string): string {
  try {
    return statSync(path).isDirectory() ? join(path, 'results.json') : path;
  } catch {
    return path;
  }
}

/** The JSON's `log`, `attributes` and `tests` as the model has them (`tests` of a Test are `children`). */
function parts(raw: Json): { rest: Json; log: string[]; attributes: Record<string, string>; tests: TestNode[] } {
  const { tests, log, attributes, ...rest } = raw;
  return {
    rest,
    log: Array.isArray(log) ? (log as string[]) : [],
    attributes: (attributes as Record<string, string> | undefined) ?? {},
    tests: Array.isArray(tests) ? (tests as Json[]).map(node) : [],
  };
}

function node(raw: Json): TestNode {
  const { rest, log, attributes, tests } = parts(raw);
  return { ...(rest as unknown as TestNode), log, attributes, children: tests };
}

function document(raw: Json): KtapDocument {
  const { rest, log, attributes, tests } = parts(raw);
  return { ...(rest as unknown as KtapDocument), log, attributes, tests };
}

/** Read one results.json (or an output directory holding one). */
export function readResults(input: string): { path: string; result: RunResult } {
  const path = resultsPath(input);
  const raw = readJsonFile(path, 'E_RESULTS', 'a results.json written by kunit-bridge');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(path, 'not a kunit-bridge results.json (not an object)');
  const j = raw as Json;
  if (j['schemaVersion'] !== SCHEMA_VERSION) {
    bad(path, `schemaVersion ${JSON.stringify(j['schemaVersion'])} is not one this kunit-bridge reads (${SCHEMA_VERSION}): merge results of the same kunit-bridge version`);
  }
  if (!Array.isArray(j['documents']) || typeof j['counts'] !== 'object') bad(path, 'a results.json without documents or counts');
  const result: RunResult = {
    documents: (j['documents'] as Json[]).map(document),
    diagnostics: (j['diagnostics'] as RunResult['diagnostics'] | undefined) ?? [],
    counts: j['counts'] as RunResult['counts'],
    verdict: j['verdict'] as RunResult['verdict'],
    lines: typeof j['lines'] === 'number' ? j['lines'] : 0,
    metadata: (j['metadata'] as Record<string, string> | undefined) ?? {},
  };
  if (j['crash']) result.crash = j['crash'] as RunResult['crash'];
  if (j['shard']) result.shard = j['shard'] as RunResult['shard'];
  if (j['groups']) result.groups = j['groups'] as RunResult['groups'];
  return { path, result };
}
