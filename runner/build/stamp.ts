/**
 * The build dir's stamp (`.kunit-bridge-build.json`): a hash of what the
 * configuration was made from (the merged fragments, arch, cross compiler,
 * make options) and of the .config `make olddefconfig` wrote. When both
 * still match, nothing changed: the next build skips writing the .config and
 * `make olddefconfig`, and make alone decides what to recompile.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openFresh } from '../write-file.js';
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
  /** The last successful build: when make started and ended (epoch ms), and {@link toolsHash} of its toolchain. */
  built?: { startedMs: number; endedMs: number; tools: string };
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

/**
 * Open a file of the build dir for writing, truncated in place when it is a regular file (so the
 * directory's mtime does not change: the no-change check reads it), else created afresh (a link
 * is never followed).
 */
export function openInPlace(path: string): number {
  try {
    if (lstatSync(path).isFile()) return openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  } catch {
    // not there yet
  }
  return openFresh(path);
}

export function writeStamp(buildDir: string, stamp: BuildStamp): void {
  const fd = openInPlace(join(buildDir, STAMP_FILE));
  try {
    writeSync(fd, `${JSON.stringify(stamp, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Whether the configuration must be made again: no stamp, other inputs, or a .config changed (or gone) since. */
export function needsReconfig(stamp: BuildStamp | undefined, inputs: string, config: string | undefined): boolean {
  return stamp === undefined || config === undefined || stamp.inputs !== inputs || stamp.config !== config;
}
