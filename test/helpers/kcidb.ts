/** Validating KCIDB output against the v5.3 schema (kernelci/kcidb-io) with ajv. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { SHARED } from './corpus.js';

export const KCIDB_SCHEMA = join(SHARED, 'schemas', 'kcidb-v5.3.json');

let validate: (((data: unknown) => boolean) & { errors?: unknown[] | null }) | undefined;

/** The schema's complaints about `data` (a parsed KCIDB document); empty when it is valid. */
export function kcidbErrors(data: unknown): string[] {
  if (!validate) {
    const ajv = new Ajv.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    validate = ajv.compile(JSON.parse(readFileSync(KCIDB_SCHEMA, 'utf8')) as object);
  }
  if (validate(data)) return [];
  return (validate.errors ?? []).slice(0, 10).map((e) => JSON.stringify(e));
}

/**
 * Every e2e `run` through the CLI helper: the KCIDB of its results.json (`-o DIR`) must be valid too.
 * Returns the schema's complaints (empty when valid, or when the run left no results.json to check).
 */
export async function runKcidbErrors(args: readonly string[], cwd: string): Promise<string[]> {
  if (args[0] !== 'run') return [];
  const i = args.findIndex((a) => a === '-o' || a === '--output');
  const dir = i >= 0 ? args[i + 1] : undefined;
  if (dir === undefined) return [];
  const path = join(resolve(cwd, dir), 'results.json');
  if (!existsSync(path)) return [];
  const [{ readResultsFile }, { renderKcidb }] = await Promise.all([
    import('../../runner/gate/results-file.js'),
    import('../../reporters/kcidb.js'),
  ]);
  return kcidbErrors(JSON.parse(renderKcidb(readResultsFile(path))) as unknown).map((e) => `${path}: ${e}`);
}
