/**
 * Helpers shared by the benchmarks: paths, the run count, kunit.py, errors.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WORK = path.resolve(os.tmpdir(), 'kunit-bridge-bench'); // absolute: kunit.py chdirs

/** BENCH_RUNS (default 3). */
export function benchRuns() {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  if (!Number.isInteger(runs) || runs < 1) die(`BENCH_RUNS must be a positive integer, not ${process.env.BENCH_RUNS}`);
  return runs;
}

export function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

/** Output of a short command, or null if it cannot run or fails. */
export function capture(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.trim() : null;
}

/** kunit.py's path from scripts/kunit-py.sh, or { error } with the script's message. */
export function findKunitPy() {
  const script = path.join(ROOT, 'scripts/kunit-py.sh');
  if (!fs.existsSync(script)) return { error: 'scripts/kunit-py.sh does not exist' };
  const r = spawnSync('bash', [script], { cwd: ROOT, encoding: 'utf8' });
  const found = r.stdout.trim().split('\n').pop();
  if (r.status === 0 && found && fs.existsSync(found)) return { path: found };
  return { error: `${r.stderr}${r.stdout}`.trim() || `scripts/kunit-py.sh exited ${r.status}` };
}
