/**
 * A small on-disk cache (`$XDG_CACHE_HOME/kunit-bridge`, or
 * `~/.cache/kunit-bridge`; `KUNIT_BRIDGE_CACHE` overrides): per-kernel test
 * lists and suite timings for sharding, and whether KVM worked. Losing it
 * only costs time; a broken file is ignored.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './write-file.js';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['KUNIT_BRIDGE_CACHE']) return env['KUNIT_BRIDGE_CACHE'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'kunit-bridge');
}

export function readCache<T>(name: string): T | undefined {
  try {
    return JSON.parse(readFileSync(join(cacheDir(), name), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeCache(name: string, value: unknown): void {
  try {
    writeFileAtomic(join(cacheDir(), name), `${JSON.stringify(value, null, 1)}\n`);
  } catch {
    // a cache that cannot be written is only slower
  }
}

/** sha256 of a file (kernel images are a few MB: milliseconds). */
export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
