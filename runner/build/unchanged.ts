/**
 * The no-change loop's shortcut: when the configuration did not change, the
 * toolchain and the make variables of the environment are the same, no file
 * or directory of the tree is newer than the last build's start, and nothing
 * in the build dir is newer than its end (an object deleted, a file touched),
 * make would do nothing: it is not run (`--make-always` runs it anyway).
 * Directories count: adding, removing or renaming a file changes its
 * directory's mtime. Make itself decides by mtimes too.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from './stamp.js';

/** The first entry under `root` (itself included) whose mtime is after `sinceMs`, skipping `skip` (absolute paths). */
export function firstNewer(root: string, sinceMs: number, skip: ReadonlySet<string>): string | undefined {
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: import('node:fs').Dirent[];
    try {
      if (statSync(dir).mtimeMs > sinceMs) return dir;
      names = readdirSync(dir, { withFileTypes: true });
    } catch {
      return dir;
    }
    for (const d of names) {
      const path = join(dir, d.name);
      if (skip.has(path)) continue;
      if (d.isDirectory()) stack.push(path);
      else {
        try {
          if (statSync(path).mtimeMs > sinceMs) return path;
        } catch {
          // a dangling link: make does not read it either
        }
      }
    }
  }
  return undefined;
}

/** Environment variables kbuild reads: a change in any of them means make must run. */
const MAKE_ENV =
  /^(?:KBUILD_\w+|KCFLAGS|KCPPFLAGS|KAFLAGS|KRUSTFLAGS|CC|LD|AR|NM|OBJCOPY|HOSTCC|HOSTCXX|LLVM|LLVM_IAS|CROSS_COMPILE|ARCH|RUSTC|BINDGEN|PATH|LOCALVERSION|INSTALL_\w+)$/;

/** The hash of the toolchain's versions and of the make variables in the environment. */
export function toolsHash(compilers: Record<string, string>, env: NodeJS.ProcessEnv): string {
  const vars = Object.keys(env)
    .filter((k) => MAKE_ENV.test(k))
    .sort()
    .map((k) => `${k}=${env[k]}`);
  return sha256(JSON.stringify({ compilers, vars }));
}
