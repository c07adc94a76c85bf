/**
 * Real small file systems for the full-disk and read-only tests: a tmpfs
 * mounted for the test (the tests run as root, where `chmod 0500` stops
 * nothing), filled to the last block, unmounted afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`} (these tests need root)`);
}

/**
 * Mount a 64 KiB tmpfs at `dir` (`readOnly`: mounted `ro`; `fill`: these directories made, then
 * every block taken), run `fn`, unmount.
 */
export async function withTmpfs(dir: string, opts: { readOnly?: boolean; fill?: string[] }, fn: () => Promise<void>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  sh('mount', ['-t', 'tmpfs', '-o', `size=64k${opts.readOnly ? ',ro' : ''}`, 'tmpfs', dir]);
  try {
    if (opts.fill) fill(dir, opts.fill);
    await fn();
  } finally {
    sh('umount', [dir]);
  }
}

/** Make `dirs` (inside the file system), then fill it until a write fails with ENOSPC. */
function fill(root: string, dirs: string[]): void {
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  const block = Buffer.alloc(4096);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(root, `fill-${i}`), block);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw err;
    }
  }
}
