/**
 * Reading a native `results.json` (docs/json-format.md) back into the model,
 * for `--baseline` and `compare`. The inverse of reporters/json.ts: `tests`
 * become `children`, absent optional fields stay absent. A file that is not
 * such a results.json, or of an unknown `schemaVersion`, is an input error
 * (exit 2) naming the file. The gate's marks (`gate`, a test's `known`) are
 * dropped and `verdict` is the tests' own: the reader judges again.
 */
import { BridgeError, readInputText } from '../errors.js';
import type { KtapDocument, RunResult, TestNode } from '../ktap/model.js';
import { emptyCounts } from '../ktap/model.js';

/** The schema versions this build reads. */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1];

type Json = Record<string, unknown>;

function bad(file: string, what: string): BridgeError {
  return new BridgeError(
    'E_RESULTS_FILE',
    `${file}: ${what} (give the results.json a kunit-bridge run, parse or merge wrote with --json or in its output directory)`,
  );
}

function testNode(j: Json, file: string): TestNode {
  if (typeof j['name'] !== 'string' || typeof j['status'] !== 'string') throw bad(file, 'a test without name or status');
  // A known mark is the gate's, not the test's: a re-read result is judged again.
  const { tests, known: _known, ...rest } = j;
  const node = { log: [], attributes: {}, line: 0, ...rest } as unknown as TestNode;
  node.children = Array.isArray(tests) ? (tests as Json[]).map((t) => testNode(t, file)) : [];
  return node;
}

/** Parse the text of a results.json. */
export function parseResultsJson(text: string, file: string): RunResult {
  let j: Json;
  try {
    j = JSON.parse(text) as Json;
  } catch (err) {
    throw bad(file, `not JSON: ${(err as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw bad(file, 'not a results object');
  const version = j['schemaVersion'];
  if (typeof version !== 'number') throw bad(file, 'no schemaVersion: not a kunit-bridge results.json');
  if (!READABLE_SCHEMA_VERSIONS.includes(version)) {
    throw new BridgeError(
      'E_RESULTS_VERSION',
      `${file}: schemaVersion ${version} is not one this kunit-bridge reads (${READABLE_SCHEMA_VERSIONS.join(', ')}): use the kunit-bridge that wrote it, or a newer one`,
    );
  }
  if (!Array.isArray(j['documents'])) throw bad(file, 'no documents');
  const documents = (j['documents'] as Json[]).map((d, i): KtapDocument => {
    const { tests, ...rest } = d;
    return {
      index: i,
      log: [],
      attributes: {},
      complete: true,
      startLine: 0,
      endLine: 0,
      ...rest,
      tests: Array.isArray(tests) ? (tests as Json[]).map((t) => testNode(t, file)) : [],
    } as KtapDocument;
  });
  const result: RunResult = {
    documents,
    diagnostics: Array.isArray(j['diagnostics']) ? (j['diagnostics'] as RunResult['diagnostics']) : [],
    counts: { ...emptyCounts(), ...(j['counts'] as object | undefined) },
    // The tests' own verdict: the gate's is decided again by whoever reads it.
    verdict:
      (j['gate'] as { testVerdict?: RunResult['verdict'] } | undefined)?.testVerdict ??
      (j['verdict'] as RunResult['verdict'] | undefined) ??
      'passed',
    lines: typeof j['lines'] === 'number' ? j['lines'] : 0,
    metadata: (j['metadata'] as Record<string, string> | undefined) ?? {},
  };
  if (j['crash']) result.crash = j['crash'] as RunResult['crash'] & object;
  // What `merge` needs to put shards and groups together again.
  if (j['shard']) result.shard = j['shard'] as RunResult['shard'] & object;
  if (j['groups']) result.groups = j['groups'] as RunResult['groups'] & object;
  return result;
}

/** Read a results.json; a missing or unreadable file is an input error (exit 2). */
export function readResultsFile(path: string): RunResult {
  return parseResultsJson(readInputText(path, 'the results file'), path);
}
