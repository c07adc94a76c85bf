/**
 * The build dir's stamp (`.kunit-bridge-build.json`): a hash of what the
 * configuration was made from (the merged fragments, arch, cross compiler,
 * make options) and of the .config `make olddefconfig` wrote. When both
 * still match, nothing changed: the next build skips writing the .config and
 * `make olddefconfig`, and make alone decides what to recompile.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../write-file.js';
import { entryLine, type KconfigEntry } from './kunitconfig.js';

export const STAMP_FILE = '.kunit-bridge-build.json';

export interface BuildStamp {
  version: 1;
  /** sha256 of the configuration's inputs ({@link inputsHash}). */
  inputs: string;
  /** sha256 of the .config after `make olddefconfig`. */
  config: string;
  /** Objects the largest build of this dir compiled: the progress's estimate of a full build. */
  objects?: number;
}

export interface StampInputs {
  entries: readonly KconfigEntry[];
  arch: string;
  crossCompile?: string;
  makeOptions?: readonly string[];
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The hash of what the .config is made from (the entries' values in order, not where they were written). */
export function inputsHash(i: StampInputs): string {
  return sha256(
    JSON.stringify({ entries: i.entries.map(entryLine), arch: i.arch, cross: i.crossCompile ?? '', make: [...(i.makeOptions ?? [])] }),
  );
}

/** The .config's hash, or undefined when there is none. */
export function configHash(buildDir: string): string | undefined {
  try {
    return sha256(readFileSync(join(buildDir, '.config')));
  } catch {
    return undefined;
  }
}

export function readStamp(buildDir: string): BuildStamp | undefined {
  try {
    const s = JSON.parse(readFileSync(join(buildDir, STAMP_FILE), 'utf8')) as Partial<BuildStamp>;
    return s.version === 1 && typeof s.inputs === 'string' && typeof s.config === 'string' ? (s as BuildStamp) : undefined;
  } catch {
    return undefined;
  }
}

export function writeStamp(buildDir: string, stamp: BuildStamp): void {
  writeFileAtomic(join(buildDir, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
}

/** Whether the configuration must be made again: no stamp, other inputs, or a .config changed (or gone) since. */
export function needsReconfig(stamp: BuildStamp | undefined, inputs: string, config: string | undefined): boolean {
  return stamp === undefined || config === undefined || stamp.inputs !== inputs || stamp.config !== config;
}
