/** The parts of a run's results.json (docs/json-format.md) the e2e tests read. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface JsonNode {
  name: string;
  status: string;
  reason?: string;
  tests?: JsonNode[];
  attempts?: { attempt: number; status: string; ran?: boolean }[];
  flaky?: boolean;
}

export interface JsonDoc {
  tests: JsonNode[];
  origin?: { kind: string; module?: string };
}

export interface Json {
  verdict: string;
  counts: Record<string, number>;
  metadata: Record<string, string>;
  documents: JsonDoc[];
  diagnostics: { code: string; message: string }[];
}

/** The results.json of the output directory `dir`. */
export const readResults = (dir: string): Json => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Json;
