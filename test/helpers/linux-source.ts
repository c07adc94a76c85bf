/**
 * Debian's linux-source-6.12 (`/usr/src/linux-source-6.12.tar.xz`, apt), unpacked once into
 * `~/.cache/kunit-bridge/linux-source/<package version>/` and shared by every test run: it is
 * unpacked into a directory of its own, then renamed into place, so two processes that unpack it at
 * once both end with one whole tree. Tests never write into it: they build with `O=` elsewhere, or
 * in a hard-link copy (`cp -al`) where a file they change is replaced, never edited in place.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const TARBALL = '/usr/src/linux-source-6.12.tar.xz';

/** The package's version (the cache key), or the tarball's size and time when dpkg does not know it. */
function version(): string {
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'linux-source-6.12'], { encoding: 'utf8' }).trim();
    if (v) return v;
  } catch {
    // not a dpkg system
  }
  const st = statSync(TARBALL);
  return `${st.size}-${Math.floor(st.mtimeMs)}`;
}

/** The unpacked tree (unpacking it the first time: about a minute). */
export function linuxSource(): string {
  if (!existsSync(TARBALL)) throw new Error(`${TARBALL} is missing: apt-get install linux-source-6.12 (.ci/run does)`);
  const root = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'kunit-bridge', 'linux-source');
  const tree = join(root, version());
  if (existsSync(join(tree, 'Makefile'))) return tree;
  mkdirSync(root, { recursive: true });
  const tmp = mkdtempSync(join(root, 'unpacking-'));
  try {
    execFileSync('tar', ['-xJf', TARBALL, '-C', tmp], { stdio: 'inherit' });
    try {
      renameSync(join(tmp, 'linux-source-6.12'), tree);
    } catch (err) {
      // Another process renamed its copy first: use that one.
      if (!existsSync(join(tree, 'Makefile'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return tree;
}

/** A hard-link copy of the tree at `dest` (seconds, no space): replace a file there with {@link replaceFile}. */
export function linkCopy(tree: string, dest: string): string {
  execFileSync('cp', ['-al', tree, dest]);
  return dest;
}

/** Replace `path` (in a {@link linkCopy}) with new contents: a new file, so the shared tree's stays as it was. */
export function replaceFile(path: string, text: string): void {
  unlinkSync(path);
  writeFileSync(path, text);
}
