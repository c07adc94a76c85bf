/**
 * The no-change loop's shortcut: when the configuration did not change, the
 * toolchain and the make variables of the environment are the same, no file
 * or directory of the tree is newer than the last build's start, and nothing
 * in the build dir is newer than its end (an object deleted, a file touched),
 * make would do nothing: it is not run (`--make-always` runs it anyway).
 * Directories count: adding, removing or renaming a file changes its
 * directory's mtime. Make itself decides by mtimes too.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_OUTPUT_PARENT } from '../output-dir.js';
import { needsReconfig, sha256, STAMP_FILE, type BuildStamp } from './stamp.js';

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

/** Why make need not run (the no-change shortcut, build/unchanged.ts), or undefined when it must. */
export function unchangedSince(
  stamp: BuildStamp | undefined,
  o: { inputs: string; config: string | undefined; tools: string; source: string; buildDir: string; image: string },
): string | undefined {
  if (!stamp?.built || needsReconfig(stamp, o.inputs, o.config) || stamp.built.tools !== o.tools || !existsSync(o.image)) return undefined;
  // The tree's top-level dot-directories (.git, build dirs like .kunit) and run's default output
  // directory (`run --build` in the tree writes there) hold no sources.
  const notSources = readdirSync(o.source, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (d.name.startsWith('.') || d.name === DEFAULT_OUTPUT_PARENT))
    .map((d) => join(o.source, d.name));
  const inTree = firstNewer(o.source, stamp.built.startedMs, new Set([o.buildDir, ...notSources]));
  if (inTree) return undefined;
  const inBuild = firstNewer(o.buildDir, stamp.built.endedMs, new Set([join(o.buildDir, 'build.log'), join(o.buildDir, STAMP_FILE)]));
  return inBuild ? undefined : new Date(stamp.built.endedMs).toISOString();
}
