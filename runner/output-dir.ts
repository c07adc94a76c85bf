/**
 * The run's output directory: `-o DIR` as given (created when missing), else a
 * fresh `kunit-bridge-out/<timestamp>/`, created exclusively (the leaf without
 * `recursive`): a run that finds it taken tries `<timestamp>-2`, `-3`, … so two
 * runs started in the same second never share a directory.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BridgeError, describeFsError } from './errors.js';
import { mkdirs } from './write-file.js';

/** The default parent, relative to the working directory. */
export const DEFAULT_OUTPUT_PARENT = 'kunit-bridge-out';
/** Give up after this many taken names (something else is wrong then). */
const MAX_SUFFIX = 1000;

export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

/**
 * Create the output directory and return its absolute path. Throws E_OUTPUT_DIR
 * (exit 2) with one line when it cannot be created.
 */
export function createOutputDir(cwd: string, output: string | undefined, now = new Date()): string {
  let dir = resolve(cwd, output ?? join(DEFAULT_OUTPUT_PARENT, timestamp(now)));
  try {
    if (output !== undefined) {
      mkdirs(dir);
      return dir;
    }
    const base = dir;
    mkdirs(resolve(cwd, DEFAULT_OUTPUT_PARENT));
    for (let n = 1; ; n++) {
      dir = n === 1 ? base : `${base}-${n}`;
      try {
        mkdirSync(dir, 0o755);
        return dir;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= MAX_SUFFIX) throw err;
      }
    }
  } catch (err) {
    throw new BridgeError('E_OUTPUT_DIR', `cannot create the output directory ${dir}: ${describeFsError(err, 'choose another with -o')}`, {
      cause: err,
    });
  }
}
