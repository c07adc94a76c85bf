/** Running the built CLI as a user would: a real process, no shell. */
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './corpus.js';
import { runKcidbErrors } from './kcidb.js';

export const CLI = join(REPO, 'dist/runner/bin.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function ensureBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does) first`);
}

/** A fresh cache dir, so KVM memos and timings of other runs do not leak in. */
export function freshCache(): string {
  return mkdtempSync(join(tmpdir(), 'kunit-bridge-cache-'));
}

export function tempDir(prefix = 'kunit-bridge-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A CLI started in the background: its output so far, and its result once it ends. */
export interface StartedCli {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  stdout: () => string;
  stderr: () => string;
  done: Promise<CliResult>;
}

/** Start the built CLI (colour off); `input` goes to its stdin, which is then closed. */
export function startCli(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}): StartedCli {
  ensureBuilt();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(opts.input ?? '');
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Run the CLI to completion; a `run` with `-o DIR` also has the KCIDB of its results.json validated. */
export async function runCli(
  args: string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const r = await startCli(args, opts).done;
  const errors = await runKcidbErrors(args, opts.cwd ?? REPO);
  if (errors.length > 0) throw new Error(`the run's KCIDB is not valid against the v5.3 schema:\n${errors.join('\n')}`);
  return r;
}

/** PIDs of running processes whose command line contains `needle`. */
export function processesWith(needle: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}
