/** A real `kunit-bridge run --serve` of the x86_64 fixture kernel under TCG, for live e2e tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { REPO, kernelFixture } from './corpus.js';
import { CLI, tempDir } from './cli.js';

export const KERNEL = kernelFixture('x86_64-rust-kunit', 'bzImage');

export interface ServedRun {
  child: ChildProcess;
  feed: string;
  page: string;
  token?: string;
  /** The run's output dir (`-o`). */
  out: string;
  /** Everything the run printed so far on stdout. */
  stdout(): string;
  exited: Promise<number | null>;
}

/** Call at the top level of a test file; returns `serve`, whose runs are killed after each test. */
export function useServedRuns(): (args: string[], opts?: { quiet?: boolean }) => Promise<ServedRun> {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });
  /** Start `run --serve` and resolve once it printed its feed address (and token, bound beyond loopback). */
  return (args, opts = {}) => {
    const out = tempDir();
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--kernel', KERNEL, '--accel', 'tcg', '-j', '1', ...(opts.quiet === false ? [] : ['-q']), '-o', out, ...args],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    children.push(child);
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let err = '';
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    return new Promise((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /live: page (\S+)\s+feed (\S+)/.exec(err);
        const t = /token (\S+) \(watch with --token\)/.exec(err);
        const needsToken = args.some((a) => a.startsWith('0.0.0.0')) && !args.includes('--serve-token');
        if (m && (!needsToken || t)) resolve({ child, page: m[1]!, feed: m[2]!, token: t?.[1], out, exited, stdout: () => stdout });
      });
      exited.then((code) => reject(new Error(`run exited ${code} before serving: ${err}`)));
    });
  };
}
