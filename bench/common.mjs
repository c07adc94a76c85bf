/**
 * Helpers shared by the benchmarks: paths, the run count, kunit.py, errors.
 */
import { spawn, spawnSync } from 'node:child_process';
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

/** The median of a list of numbers (NaN when empty). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2 : NaN;
}

const MEASURE = path.join(ROOT, 'bench/measure.py');
/** The process group of the command being measured, killed on timeout or by {@link killMeasured}. */
let current = null;

/** Kill the command being measured, if any (for the benchmarks' signal handlers). */
export function killMeasured() {
  if (current)
    try {
      process.kill(-current.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
}

/**
 * One command under measure.py: { wall_s, maxrss_mb, exit } or { error }. measure.py runs in a
 * process group of its own, so a timeout kills the command it started too, and nothing else.
 */
export function measure(argv, { cwd, env, stdout = '/dev/null', stderr = '/dev/null', timeoutS = 600 } = {}) {
  return new Promise((resolve) => {
    const child = spawn('python3', [MEASURE, '--stdout', stdout, '--stderr', stderr, '--', ...argv], {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = child;
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutS * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      current = null;
      resolve({ error: `python3: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      current = null;
      if (timedOut) return resolve({ error: `timed out after ${timeoutS} s (BENCH_TIMEOUT_S)` });
      if (code !== 0) return resolve({ error: err.trim() || `measure.py exited ${code}` });
      try {
        resolve(JSON.parse(out));
      } catch {
        resolve({ error: `measure.py printed ${JSON.stringify(out)}` });
      }
    });
  });
}

const SMALL = path.join(ROOT, '..', 'shared', 'fixtures/kernels/x86_64-rust-kunit/boot.log');
const MAKE_BIG = path.join(ROOT, '..', 'shared', 'bench/make-big-ktap.py');

/**
 * A big log made by make-big-ktap.py from `source` (default: the x86_64-rust-kunit boot log), about
 * BIG_LINES lines, cached as `$WORK/<name>-<BIG_LINES>.log`; made again if missing, of the wrong
 * size, or from another source.
 */
export function bigLog(BIG_LINES = 1_000_000, source = SMALL, name = 'big') {
  const file = path.join(WORK, `${name}-${BIG_LINES}.log`);
  const metaFile = `${file}.json`;
  const src = fs.statSync(source);
  const want = { source, sourceBytes: src.size, sourceMtimeMs: src.mtimeMs };
  try {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    const ok = Object.entries(want).every(([k, v]) => meta[k] === v);
    if (ok && fs.statSync(file).size === meta.bytes) return { file, lines: meta.lines };
  } catch {
    /* no usable cache: make it */
  }
  console.error(`bench: making ${file} ...`);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  const r = spawnSync('python3', [MAKE_BIG, source, String(BIG_LINES)], { stdio: ['ignore', fd, 'inherit'] });
  fs.closeSync(fd);
  if (r.status !== 0) die(`make-big-ktap.py failed (${r.error?.message ?? `exit ${r.status}`})`);
  const data = fs.readFileSync(tmp);
  let lines = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++;
  fs.renameSync(tmp, file);
  fs.writeFileSync(metaFile, JSON.stringify({ ...want, bytes: data.length, lines }, null, 2));
  return { file, lines };
}
