/** Atomic file writes: a temporary file beside the target, then rename. */
import { mkdirSync, renameSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/**
 * Write `data` to `path` atomically (temporary file + rename), creating parent
 * directories. `-` writes to stdout; an existing non-regular file (`/dev/null`,
 * a FIFO) is written in place, never replaced.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  if (path === '-') {
    process.stdout.write(data);
    return;
  }
  let special = false;
  try {
    special = !statSync(path).isFile();
  } catch {
    // does not exist yet
  }
  if (special) {
    writeFileSync(path, data);
    return;
  }
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
