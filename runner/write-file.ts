/**
 * Writing files that nobody else can redirect. A file is created exclusively
 * (`O_CREAT|O_EXCL|O_NOFOLLOW`) under an unpredictable temporary name beside
 * its target, then renamed over the target: a symlink planted at the target is
 * replaced, one planted at a temporary name makes the open fail, and neither is
 * ever written through.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  type Stats,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeStdout } from './stdout.js';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDWR, O_WRONLY } = constants;

/** `.NAME.kb-PID-RANDOM.tmp`: recognisable (stale ones are removed), not predictable. */
const TEMP = /^\.(.+)\.kb-(\d+)-[0-9a-f]{16}\.tmp$/;
/** A fresh temporary name for `base` (exported for tests). */
export const tempName = (base: string): string => `.${base}.kb-${process.pid}-${randomBytes(8).toString('hex')}.tmp`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporary files an earlier writer of `base` left in `dir` when it
 * was killed (`kill -9` between create and rename): those whose writer is gone.
 */
function removeStaleTemps(dir: string, base: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || m[1] !== base || alive(Number(m[2]))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // someone else removed it, or it is not ours to remove
    }
  }
}

/** `mkdir -p`, with the real reason when it fails (Node's recursive mkdir says ENOENT on a read-only file system). */
export function mkdirs(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // The first missing ancestor, made alone, fails with the real reason (EROFS, EACCES, ENOSPC).
    let first = dir;
    while (dirname(first) !== first && !existsSync(dirname(first))) first = dirname(first);
    try {
      mkdirSync(first);
    } catch (real) {
      if ((real as NodeJS.ErrnoException).code !== 'EEXIST') throw real;
    }
    mkdirSync(dir, { recursive: true });
  }
}

/**
 * Open `path` as a new, empty file for reading and writing: whatever is there
 * (an old file, a planted symlink) is unlinked first, never followed, and the
 * file is created exclusively. Returns the descriptor.
 */
export function openFresh(path: string): number {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return openSync(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
}

/**
 * A device or FIFO is written in place, not replaced: `/dev/null`, a FIFO the
 * user made, and `/dev/stdout` or `/proc/self/fd/N`, the only symlinks followed
 * (only root can plant a link there). Any other symlink is replaced.
 */
function inPlace(path: string): { follow: boolean } | undefined {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) {
    if (!/^\/(dev|proc)\//.test(resolve(path))) return undefined;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    return st.isFile() || st.isDirectory() ? undefined : { follow: true };
  }
  return st.isFile() || st.isDirectory() ? undefined : { follow: false };
}

/** A file being written: its descriptor, then `commit()` (renamed over its target) or `abort()` (removed). */
export interface AtomicFile {
  fd: number;
  commit(): void;
  abort(): void;
}

/** Is `path` written in place, not replaced (`-`: stdout, a device, a FIFO)? */
export function writesInPlace(path: string): boolean {
  return path === '-' || inPlace(path) !== undefined;
}

/**
 * Open `path` to be written atomically: an exclusive temporary file beside it
 * (readable too), renamed over it by `commit()`, creating parent directories.
 * An existing device or FIFO is opened in place, never replaced.
 */
export function openAtomic(path: string): AtomicFile {
  const special = inPlace(path);
  if (special) {
    const fd = openSync(path, O_WRONLY | (special.follow ? 0 : O_NOFOLLOW));
    return { fd, commit: () => closeSync(fd), abort: () => closeSync(fd) };
  }
  const dir = dirname(path);
  mkdirs(dir);
  removeStaleTemps(dir, basename(path));
  const tmp = join(dir, tempName(basename(path)));
  const fd = openSync(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
  const remove = (): void => {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  };
  return {
    fd,
    commit() {
      try {
        closeSync(fd);
        renameSync(tmp, path);
      } catch (err) {
        remove();
        throw err;
      }
    },
    abort() {
      try {
        closeSync(fd);
      } finally {
        remove();
      }
    },
  };
}

/**
 * Write `data` to `path` atomically (an exclusive temporary file + rename),
 * creating parent directories. `-` writes to stdout; an existing device or FIFO
 * is written in place, never replaced.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  if (path === '-') {
    writeStdout(data);
    return;
  }
  const file = openAtomic(path);
  try {
    writeFileSync(file.fd, data);
  } catch (err) {
    file.abort();
    throw err;
  }
  file.commit();
}
