/**
 * `run` without `--build` in a kernel tree: whether the image it would boot
 * from the build dir is older than the build dir's .config or kunitconfig
 * (the developer changed them and forgot to build). One line; it never builds.
 * A build that found nothing to relink leaves the image older than a .config
 * it rewrote: its stamp, written after the build, then counts as the image's time.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES, type Arch } from '../qemu/profiles.js';
import { configHash, readStamp, STAMP_FILE } from './stamp.js';

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The warning for `buildDir`'s image, or undefined when it is up to date (or there is none). */
export function staleImageWarning(buildDir: string, arch: Arch, shownDir = buildDir): string | undefined {
  const imageTime = mtime(join(buildDir, PROFILES[arch].build.image));
  if (imageTime === undefined) return undefined;
  const stampTime = readStamp(buildDir)?.config === configHash(buildDir) ? (mtime(join(buildDir, STAMP_FILE)) ?? 0) : 0;
  const built = Math.max(imageTime, stampTime);
  const newer = ['.config', '.kunitconfig'].filter((f) => (mtime(join(buildDir, f)) ?? 0) > built);
  if (newer.length === 0) return undefined;
  return `${join(shownDir, PROFILES[arch].build.image)} is older than ${newer.map((f) => join(shownDir, f)).join(' and ')}: booting it as it is (rebuild with run --build, or kunit-bridge build)`;
}
