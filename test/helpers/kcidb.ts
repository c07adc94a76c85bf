/** Validating KCIDB output against the v5.3 schema (kernelci/kcidb-io) with ajv. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { SHARED } from './corpus.js';

export const KCIDB_SCHEMA = join(SHARED, 'schemas', 'kcidb-v5.3.json');

let validate: ((data: unknown) => boolean) & { errors?: unknown[] | null } | undefined;

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
