/** Reading a JSON input file: a missing file or bad JSON is one usage-error line naming it. */
import { readFileSync } from 'node:fs';
import { BridgeError, inputError } from './errors.js';
import { ExitCode } from './exit-codes.js';

/** Parse `path` as JSON; `hint` says what the file should have been (`a results.json written by kunit-bridge`). */
export function readJsonFile(path: string, code: string, hint: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw inputError(path, err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BridgeError(code, 'input', ExitCode.USAGE, `${path}: not JSON (${(err as Error).message}): give ${hint}`);
  }
}
