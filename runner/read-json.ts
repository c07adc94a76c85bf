/** Reading a JSON input file: a missing file or bad JSON is one usage-error line naming it. */
import { readFileSync } from 'node:fs';
import { BridgeError, inputError, type ErrorCode } from './errors.js';

/** Parse `path` as JSON; `hint` says what the file should have been (`a results.json written by kunit-bridge`). */
export function readJsonFile(path: string, code: ErrorCode, hint: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw inputError(path, err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BridgeError(code, `${path}: not JSON (${(err as Error).message}): give ${hint}`);
  }
}
