/**
 * `merge`'s inputs: a results.json, or an output directory holding one, read
 * back into the model by the gate's reader (runner/gate/results-file.ts: an
 * unknown schemaVersion or a file that is not one is exit 2 naming it).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './ktap/model.js';
import { readResultsFile } from './gate/results-file.js';

/** `path` itself, or `path/results.json` when it is a directory (a run's output dir). */
export function resultsPath(path: string): string {
  try {
    return statSync(path).isDirectory() ? join(path, 'results.json') : path;
  } catch {
    return path;
  }
}

/** Read one results.json (or an output directory holding one). */
export function readResults(input: string): { path: string; result: RunResult } {
  const path = resultsPath(input);
  return { path, result: readResultsFile(path) };
}
