// Live feed latency benchmark: from a console line reaching the runner to a WebSocket client
// receiving the message it causes. `npm run bench:live` alone; `npm run bench` runs it after
// bench/parse.mjs and bench/qemu-run.mjs (bench/index.mjs).
//
// Runner side (this process): the code path of `run --serve` minus QEMU — a KtapStream whose
// onEvent publishes messageFor(e, 0) into a LiveFeed served by a LiveServer on 127.0.0.1:0
// (dist/, so `npm run build` first). It is fed the lines of a real console log,
// ../shared/fixtures/kernels/x86_64-rust-kunit/boot.log (747 lines), paced as QEMU TCG printed it:
//   BENCH_LIVE_PACE=printk (default): each line is due at its printk timestamp (a line without
//     one: with the line before it), the whole boot in ~1.13 s. A timer wakes when the next line
//     is due (Node timers: ≥ 1 ms) and writes every line due by then in ONE write(), as a serial
//     console read hands the runner a burst of lines.
//   BENCH_LIVE_PACE=1ms: line i is due at i ms (the same timer loop; ~0.75 s in all).
// For every message published during a write(), the runner notes the process.hrtime.bigint()
// taken just before that write() — the time its line(s) reached the runner. Publishing happens
// synchronously inside write(), so seq → line time is exact. run-start, and what finish()
// and run-end publish, are caused by no console line: delivered and checked, not timed.
//
// Client side: bench/live-clients.mjs, a child `node` (fork, IPC) holding N clients, so their
// work does not share the runner's event loop. Each records hrtime at receipt of every message
// (CLOCK_MONOTONIC: comparable across processes on one machine) and returns (seq, time) arrays
// when the server closes it after run-end. Latency = receipt − line time, per message per client.
// The clients connect (and the child reports ready) before run-start is published.
//
// Configurations: 1 client and 100 clients, each BENCH_RUNS times (default 3), order rotated
// every repetition, after one unmeasured warm-up run (100 clients). Per run: p50, p99, max over
// all (message, client) pairs; reported: the median over runs of each, and its min–max.
// Checked every run: each client got every seq 1..last exactly once, in order, then close 1000.
// Goal: median p99 < 10 ms with 100 clients.
//
// Prints a markdown table, writes $TMPDIR/kunit-bridge-bench/live-latency.json.
// Exit: 0 full run, goal met; 1 full run, goal missed; 2 incomplete (dist/ or the fixture
// missing, a client could not connect, a message missing or out of order, a timeout).
// Env: BENCH_RUNS=N; BENCH_LIVE_PACE=printk|1ms.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT, WORK, benchRuns, capture, die, median } from './common.mjs';

const FIXTURE = fileURLToPath(new URL('../../shared/fixtures/kernels/x86_64-rust-kunit/boot.log', import.meta.url));
const CLIENTS_JS = fileURLToPath(new URL('live-clients.mjs', import.meta.url));
const DIST = path.join(ROOT, 'dist/runner');
const CONFIGS = [1, 100];
const GOAL_CLIENTS = 100;
const GOAL_P99_MS = 10;
const DONE_TIMEOUT_MS = 30_000; // after the last line: every client must have its close by then

const RUNS = benchRuns();
const PACE = process.env.BENCH_LIVE_PACE ?? 'printk';
if (PACE !== 'printk' && PACE !== '1ms') die(`BENCH_LIVE_PACE must be printk or 1ms, not ${PACE}`);

for (const f of ['ktap/index.js', 'live/feed.js', 'live/protocol.js', 'live/server.js']) {
  if (!fs.existsSync(path.join(DIST, f))) die(`${path.join(DIST, f)} missing: run \`npm run build\` first`);
}
if (!fs.existsSync(FIXTURE)) die(`fixture ${FIXTURE} missing`);
const imp = (f) => import(pathToFileURL(path.join(DIST, f)).href);
const { KtapStream } = await imp('ktap/index.js');
const { LiveFeed } = await imp('live/feed.js');
const { messageFor } = await imp('live/protocol.js');
const { LiveServer } = await imp('live/server.js');

// The child we started, killed if we are interrupted.
let child = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (child)
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

/** The fixture as [{ buf, dueMs }]: each line with its terminator, due time per PACE. */
function loadLines() {
  const data = fs.readFileSync(FIXTURE);
  const lines = [];
  let due = 0;
  for (let start = 0; start < data.length; ) {
    const nl = data.indexOf(10, start);
    const end = nl === -1 ? data.length : nl + 1;
    const buf = data.subarray(start, end);
    if (PACE === '1ms') due = lines.length;
    else {
      const m = /^\[\s*(\d+\.\d+)\]/.exec(buf.toString('latin1', 0, 32));
      if (m) due = Math.max(due, Number(m[1]) * 1000);
    }
    lines.push({ buf, dueMs: due });
    start = end;
  }
  return lines;
}
const LINES = loadLines();

const quantile = (sorted, q) => (sorted.length ? sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] : NaN);
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const round = (x, d = 3) => (Number.isFinite(x) ? +x.toFixed(d) : null);

/** Start the clients' process; resolves once all N are connected. */
function startClients(url, n) {
  const c = fork(CLIENTS_JS, [url, String(n)], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child = c;
  let onReady;
  let onDone;
  const ready = new Promise((resolve) => {
    onReady = resolve;
  });
  const done = new Promise((resolve) => {
    onDone = resolve;
  });
  c.on('message', (m) => {
    if (m.type === 'ready') onReady({ ok: true });
    else if (m.type === 'done') onDone({ clients: m.clients });
    else if (m.type === 'error') {
      onReady({ error: m.message });
      onDone({ error: m.message });
    }
  });
  c.on('exit', (code, signal) => {
    const error = `live-clients.mjs exited ${signal ?? code} early`;
    onReady({ error });
    onDone({ error });
  });
  c.on('error', (e) => {
    onReady({ error: e.message });
    onDone({ error: e.message });
  });
  return { proc: c, ready, done };
}

/** One run with n clients: { n, stats, problems, ... }. */
async function runOnce(n) {
  const problems = [];
  const feed = new LiveFeed();
  const server = await LiveServer.start({ feed, host: '127.0.0.1', port: 0 });
  const clients = startClients(server.feedUrl, n);
  const r = await clients.ready;
  if (r.error) {
    await server.close();
    return { n, problems: [`clients: ${r.error}`] };
  }
  if (server.clients !== n) problems.push(`${server.clients} clients connected, not ${n}`);

  // seq → hrtime (ns) of the write() that published it; 0n: not caused by a console line.
  const cause = [0n];
  let lineTime = 0n;
  const stream = new KtapStream({
    clock: () => Date.now(),
    onEvent: (e) => {
      const m = messageFor(e, 0);
      if (m) cause[feed.publish(m).seq] = lineTime;
    },
  });
  feed.publish({
    type: 'run-start',
    metadata: { kernel: 'x86_64-rust-kunit boot.log (replay)', arch: 'x86_64', accel: 'replay' },
    lanes: 1,
  });
  cause[1] = 0n;

  // Replay at PACE: every line due by the time the timer fires, in one write().
  const writeNs = []; // how long each write() (parse + publish + send to every client) took
  let slowest = { ms: 0, lines: 0, messages: 0 };
  const start = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - start) / 1e6;
  await new Promise((resolve) => {
    let i = 0;
    const tick = () => {
      const now = elapsedMs();
      let j = i;
      while (j < LINES.length && LINES[j].dueMs <= now) j++;
      if (j > i) {
        const chunk = j - i === 1 ? LINES[i].buf : Buffer.concat(LINES.slice(i, j).map((l) => l.buf));
        const seq0 = feed.lastSeq;
        lineTime = process.hrtime.bigint();
        stream.write(chunk);
        const ns = Number(process.hrtime.bigint() - lineTime);
        writeNs.push(ns);
        if (ns / 1e6 > slowest.ms) slowest = { ms: round(ns / 1e6, 4), lines: j - i, messages: feed.lastSeq - seq0 };
        lineTime = 0n;
        i = j;
      }
      if (i >= LINES.length) resolve();
      else setTimeout(tick, Math.max(0, LINES[i].dueMs - elapsedMs()));
    };
    tick();
  });
  const replayMs = elapsedMs();
  const result = stream.finish();
  feed.publish({ type: 'run-end', counts: result.counts, verdict: result.verdict, exitCode: 0 });
  const lastSeq = feed.lastSeq;
  for (let s = cause.length; s <= lastSeq; s++) cause[s] = 0n;

  const timer = setTimeout(() => {
    try {
      clients.proc.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }, DONE_TIMEOUT_MS);
  await server.close();
  const d = await clients.done;
  clearTimeout(timer);
  child = null;
  if (d.error) return { n, problems: [...problems, `clients: ${d.error}`] };

  const timed = cause.filter((t) => t !== 0n).length;
  const lat = new Float64Array(timed * n);
  let k = 0;
  let negative = 0;
  d.clients.forEach((c, ci) => {
    const bad = [];
    if (c.seqs.length !== lastSeq) bad.push(`${c.seqs.length} messages, not ${lastSeq}`);
    for (let x = 0; x < c.seqs.length && bad.length < 3; x++) if (c.seqs[x] !== x + 1) bad.push(`message ${x + 1} has seq ${c.seqs[x]}`);
    if (c.closeCode !== 1000) bad.push(`closed with ${c.closeCode}, not 1000`);
    if (bad.length) problems.push(`client ${ci}: ${bad.join('; ')}`);
    for (let x = 0; x < c.seqs.length; x++) {
      const t0 = cause[c.seqs[x]];
      if (t0 === undefined || t0 === 0n) continue;
      const ms = Number(c.times[x] - t0) / 1e6;
      if (ms < 0) negative++;
      if (k < lat.length) lat[k++] = ms;
    }
  });
  if (negative) problems.push(`${negative} negative latencies: clocks not comparable?`);
  const sorted = lat.subarray(0, k).sort();
  const w = Float64Array.from(writeNs, (x) => x / 1e6).sort();
  return {
    n,
    problems,
    replay_ms: round(replayMs, 1),
    messages: lastSeq,
    timed_messages: timed,
    samples: k,
    writes: writeNs.length,
    p50_ms: round(quantile(sorted, 0.5), 4),
    p99_ms: round(quantile(sorted, 0.99), 4),
    max_ms: round(sorted[k - 1], 4),
    slowest_write: slowest,
    write_p50_ms: round(quantile(w, 0.5), 4),
    write_p99_ms: round(quantile(w, 0.99), 4),
    write_max_ms: round(w[w.length - 1], 4),
    tests: result.counts.total,
  };
}

// ---------------------------------------------------------------------------------------------

fs.mkdirSync(WORK, { recursive: true });
const commit =
  `${capture('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown'}` +
  `${capture('git', ['status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : ''}`;
const loadBefore = os.loadavg();
const uptimeBefore = capture('uptime', []) ?? '';

const problems = [];
process.stderr.write(`bench: live warm-up, ${GOAL_CLIENTS} clients (not measured) ... `);
const warm = await runOnce(GOAL_CLIENTS);
console.error(warm.problems.length ? `FAILED: ${warm.problems.join('; ')}` : `p99 ${fmt(warm.p99_ms)} ms`);
problems.push(...warm.problems.map((p) => `warm-up: ${p}`));

const runs = Object.fromEntries(CONFIGS.map((n) => [n, []]));
for (let i = 0; i < RUNS; i++) {
  for (let j = 0; j < CONFIGS.length; j++) {
    const n = CONFIGS[(i + j) % CONFIGS.length];
    process.stderr.write(`bench: live ${n} client(s), run ${i + 1}/${RUNS} ... `);
    const r = await runOnce(n);
    console.error(
      r.problems.length
        ? `FAILED: ${r.problems.slice(0, 3).join('; ')}`
        : `${r.timed_messages} msgs × ${n}: p50 ${fmt(r.p50_ms)} p99 ${fmt(r.p99_ms)} max ${fmt(r.max_ms)} ms (replay ${fmt(r.replay_ms, 0)} ms)`,
    );
    problems.push(...r.problems.map((p) => `${n} clients run ${i + 1}: ${p}`));
    runs[n].push(r);
  }
}

const summary = CONFIGS.map((n) => {
  const ok = runs[n].filter((r) => !r.problems.length);
  const agg = (key) => {
    const xs = ok.map((r) => r[key]);
    return { median: round(median(xs), 4), min: xs.length ? Math.min(...xs) : null, max: xs.length ? Math.max(...xs) : null };
  };
  return {
    clients: n,
    runs: ok.length,
    timed_messages: ok[0]?.timed_messages ?? null,
    messages: ok[0]?.messages ?? null,
    p50_ms: agg('p50_ms'),
    p99_ms: agg('p99_ms'),
    max_ms: agg('max_ms'),
    write_p99_ms: agg('write_p99_ms'),
    write_max_ms: agg('write_max_ms'),
  };
});
const goalRow = summary.find((s) => s.clients === GOAL_CLIENTS);
const goalValue = goalRow?.p99_ms.median;
const goal = {
  name: `p99 < ${GOAL_P99_MS} ms with ${GOAL_CLIENTS} clients (median over runs)`,
  value: goalValue,
  met: Number.isFinite(goalValue) ? goalValue < GOAL_P99_MS : null,
};

const loadAfter = os.loadavg();
const env = {
  date: new Date().toISOString(),
  commit,
  node: process.version,
  cpu: `${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}`,
  fixture: `${path.relative(ROOT, FIXTURE)} (${LINES.length} lines)`,
  pace:
    PACE === 'printk'
      ? 'printk timestamps (~1.13 s), lines due by each timer wake-up written as one chunk'
      : '1 ms per line, lines due by each timer wake-up written as one chunk',
  runs: RUNS,
  uptime_before: uptimeBefore,
  uptime_after: capture('uptime', []) ?? '',
};
const spread = (a) => `${fmt(a.median)} (${fmt(a.min)}–${fmt(a.max)})`;
const lines = [
  '## kunit-bridge live feed latency (console line → WebSocket client)',
  '',
  ...Object.entries(env).map(([k, v]) => `- ${k}: ${v}`),
  '',
  '| clients | messages × clients, per run | p50 ms | p99 ms | max ms | p99 < 10 ms |',
  '|--:|--:|--:|--:|--:|:-:|',
  ...summary.map(
    (s) =>
      `| ${s.clients} | ${s.timed_messages ?? '—'} × ${s.clients} | ${spread(s.p50_ms)} | ${spread(s.p99_ms)} | ` +
      `${spread(s.max_ms)} | ${Number.isFinite(s.p99_ms.median) ? (s.p99_ms.median < GOAL_P99_MS ? 'yes' : '**NO**') : '—'} |`,
  ),
  '',
  'Median over runs (min–max). Only messages a console line caused are timed; run-start, run-end',
  'and what finish() publishes are delivered and checked, not timed.',
  `Runner-side share — one write() (parse + publish + send to all clients), p99 / max, median over runs: ` +
    summary.map((s) => `${s.clients} client(s) ${fmt(s.write_p99_ms.median, 3)} / ${fmt(s.write_max_ms.median, 3)} ms`).join(', '),
  '',
  `Goal: ${goal.name}: ${fmt(goal.value)} ms → ${goal.met === null ? '—' : goal.met ? 'yes' : '**NO**'}`,
];
const incomplete = [...new Set(problems)];
if (incomplete.length) lines.push('', '**Incomplete run:**', ...incomplete.slice(0, 20).map((p) => `- ${p}`));
console.log(lines.join('\n'));

const exitCode = incomplete.length ? 2 : goal.met ? 0 : 1;
const jsonFile = path.join(WORK, 'live-latency.json');
fs.writeFileSync(
  jsonFile,
  `${JSON.stringify(
    { ...env, load_before: loadBefore, load_after: loadAfter, goal, incomplete, exit: exitCode, summary, warm_up: warm, runs },
    null,
    2,
  )}\n`,
);
console.log(`\nResults: ${jsonFile}`);
process.exit(exitCode);
