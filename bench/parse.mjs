// Parser benchmark: kunit-bridge's `parse` against the kernel's own kunit.py `parse`.
// `npm run bench:parse` alone; `npm run bench` runs it, then bench/qemu-run.mjs (bench/index.mjs).
//
// What it measures, each case BENCH_RUNS times (default 3), the two tools alternating,
// every command in its own bench/measure.py process (wall time, peak RSS of that command):
//   a   parse a 1,000,000-line console log, text output to /dev/null
//   b   parse the same log to kunit.py's JSON (ours: --quiet --kunit-json)
//   k   parse a ~300,000-line log of C tests with printk timestamps to kunit.py's JSON: the
//       x86_64-kunit-all boot (bench/fixtures/x86_64-kunit-all-printk.boot.log, booted with
//       printk.time=1) repeated by make-big-ktap.py
//   c   ours only: the 1M-line log to JUnit + TAP + our JSON at once (--quiet): "all reports at once"
//   a0  case a on the small 747-line fixture log: mostly start-up cost
//   p   ours only: the 29-byte plan bomb `KTAP version 1` / `1..1000000000` to every report at once
//       (a plan is a claim, not an allocation: bounded time and memory; exit 3, incomplete)
// It prints a markdown table of median wall time and the largest peak RSS, the speed ratio
// kunit.py/ours, and issue 14's goals: a ≥50× and <100 MB; k ≥30× and <100 MB; c <2 s and <300 MB.
// The big logs are made once by ../shared/bench/make-big-ktap.py and cached in
// $TMPDIR/kunit-bridge-bench/, where the results also go as parse-latest.json (with `rows`, one
// per measure of issue 14's table, for docs/benchmarks.md).
//
// Exit: 0 full run, goals met; 1 full run, a goal missed; 2 incomplete (kunit.py not found,
// a command failed, a report not written, or BENCH_OURS_CMD set).
// Env: BENCH_RUNS=N; BENCH_PARSE_CASES=a,k (only these cases; the run then counts as incomplete);
// BENCH_OURS_CMD='sh snippet' replaces `node dist/runner/bin.js` for
// debugging the harness, run as `sh -c "$BENCH_OURS_CMD" ours parse LOG ...` (args in "$@").
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, WORK, benchRuns, bigLog, capture, die, findKunitPy, median } from './common.mjs';

const SHARED = path.resolve(ROOT, '..', 'shared');
const SMALL = path.join(SHARED, 'fixtures/kernels/x86_64-rust-kunit/boot.log');
const C_BOOT = path.join(ROOT, 'bench/fixtures/x86_64-kunit-all-printk.boot.log');
const C_LINES = 300_000;
const MEASURE = path.join(ROOT, 'bench/measure.py');
const CLI = path.join(ROOT, 'dist/runner/bin.js');
const BIG_LINES = 1_000_000;

const PLAN_BOMB = 'KTAP version 1\n1..1000000000\n';
const RUNS = benchRuns();
const OURS_CMD = process.env.BENCH_OURS_CMD;

/** One command under measure.py (stdout and stderr to /dev/null): { wall_s, maxrss_mb, exit }. */
function measure(argv) {
  const r = spawnSync('python3', [MEASURE, '--', ...argv], { cwd: WORK, encoding: 'utf8' });
  if (r.status !== 0) return { wall_s: NaN, maxrss_mb: NaN, exit: null, error: r.stderr.trim() };
  return JSON.parse(r.stdout);
}

const fmt = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : '—');

fs.mkdirSync(WORK, { recursive: true });
if (!OURS_CMD && !fs.existsSync(CLI)) die(`${CLI} missing: run \`npm run build\` first`);
const big = bigLog(BIG_LINES);
const cLog = bigLog(C_LINES, C_BOOT, 'c-kunit-all');
const bomb = { file: path.join(WORK, 'plan-bomb.log'), lines: 2 };
fs.writeFileSync(bomb.file, PLAN_BOMB);
const kunit = findKunitPy();
if (kunit.error) console.error(`bench: kunit.py unavailable, running our side only:\n${kunit.error}\n`);

const out = (name) => path.join(WORK, name);
const kunitArgv = (args) => (kunit.path ? ['python3', kunit.path, ...args] : null);
const oursArgv = (args) => (OURS_CMD ? ['sh', '-c', OURS_CMD, 'ours', ...args] : [process.execPath, CLI, ...args]);
const reports = { junit: out('ours.junit.xml'), tap: out('ours.tap'), json: out('ours.json') };
const bombReports = ['junit', 'tap', 'json', 'kunit-json'].map((f) => [`--${f}`, out(`bomb.${f}`)]);
const cases = [
  {
    id: 'a',
    what: 'parse, text to /dev/null',
    log: big,
    goal: { speedup: 50, rssMb: 100 },
    row: 'parse summary, 1M-line log',
    kunit: ['parse', big.file],
    ours: ['parse', big.file],
    files: [],
  },
  {
    id: 'b',
    what: 'parse to kunit.py JSON',
    log: big,
    goal: {},
    kunit: ['parse', big.file, `--json=${out('kunit.json')}`],
    ours: ['parse', big.file, '--quiet', '--kunit-json', out('ours-kunit.json')],
    files: [out('ours-kunit.json')],
  },
  {
    id: 'k',
    what: 'C log with timestamps to kunit.py JSON',
    log: cLog,
    goal: { speedup: 30, rssMb: 100 },
    row: 'parse --kunit-json, 300k-line C log with timestamps',
    kunit: ['parse', cLog.file, `--json=${out('kunit-c.json')}`],
    ours: ['parse', cLog.file, '--quiet', '--kunit-json', out('ours-kunit-c.json')],
    files: [out('ours-kunit-c.json')],
  },
  {
    id: 'c',
    what: 'JUnit + TAP + JSON reports',
    log: big,
    goal: { wallS: 2, rssMb: 300 },
    row: 'all reports at once, 1M-line log',
    kunit: null,
    ours: ['parse', big.file, '--quiet', '--junit', reports.junit, '--tap', reports.tap, '--json', reports.json],
    files: Object.values(reports),
  },
  {
    id: 'a0',
    what: 'case a, small log (start-up)',
    log: { file: SMALL, lines: 747 },
    goal: {},
    kunit: ['parse', SMALL],
    ours: ['parse', SMALL],
    files: [],
  },
  {
    id: 'p',
    what: 'plan bomb 1..1e9, every report',
    log: bomb,
    goal: {},
    kunit: null,
    exits: [3],
    ours: ['parse', bomb.file, '--quiet', ...bombReports.flat()],
    files: bombReports.map(([, f]) => f),
  },
];

const ONLY = process.env.BENCH_PARSE_CASES?.split(',');
if (ONLY) cases.splice(0, cases.length, ...cases.filter((c) => ONLY.includes(c.id)));

const problems = [];
const results = [];
/** Issue 14's table, one row per measure (docs/benchmarks.md is written from these). */
const rows = [];

const secsMb = (r) => `${fmt(r.median_wall_s, 2)} s, ${fmt(r.max_rss_mb, 0)} MB`;
function rowOf(c, k, o) {
  const g = c.goal;
  const goal = [g.speedup && `>= ${g.speedup}x`, g.wallS && `< ${g.wallS} s`, g.rssMb && `< ${g.rssMb} MB`].filter(Boolean).join(', ');
  const met = o.speed_goal_met === null || o.rss_goal_met === null ? null : o.speed_goal_met && o.rss_goal_met;
  return {
    measure: c.row,
    reference: k ? `kunit.py parse ${secsMb(k)}` : '—',
    bridge: secsMb(o),
    ratio: o.speedup ? `${fmt(o.speedup, 1)}x` : '—',
    goal,
    met,
  };
}
for (const c of cases) {
  const tools = [
    ['kunit.py', c.kunit && kunitArgv(c.kunit), []],
    ['ours', oursArgv(c.ours), c.files],
  ];
  const runs = { 'kunit.py': [], ours: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const [tool, argv, files] of i % 2 ? [...tools].reverse() : tools) {
      if (!argv) continue;
      files.forEach((f) => fs.rmSync(f, { force: true }));
      process.stderr.write(`bench: ${c.id} ${tool} run ${i + 1}/${RUNS} ... `);
      const m = measure(argv);
      console.error(m.error ?? `${m.wall_s} s, ${m.maxrss_mb} MB, exit ${m.exit}`);
      // exit 1 is fine: the fixture has a failing Rust test, and both tools then exit 1.
      const exitOk = c.exits ? c.exits.includes(m.exit) : m.exit >= 0 && m.exit <= 1;
      if (m.error || !exitOk) problems.push(`${c.id} ${tool}: ${m.error ?? `exit ${m.exit}`}`);
      for (const f of files) {
        if (!(fs.statSync(f, { throwIfNoEntry: false })?.size > 0)) problems.push(`${c.id} ${tool}: ${f} not written`);
      }
      runs[tool].push(m);
    }
  }
  for (const [tool, argv] of tools) {
    if (!argv) continue;
    const rs = runs[tool];
    results.push({
      case: c.id,
      what: c.what,
      log_lines: c.log.lines,
      tool,
      argv,
      runs: rs,
      median_wall_s: +median(rs.map((r) => r.wall_s)).toFixed(4),
      max_rss_mb: Math.max(...rs.map((r) => r.maxrss_mb)),
      exits: [...new Set(rs.map((r) => r.exit))],
    });
  }
  const [k, o] = ['kunit.py', 'ours'].map((t) => results.find((r) => r.case === c.id && r.tool === t));
  if (o) {
    const g = c.goal;
    o.speedup = k ? k.median_wall_s / o.median_wall_s : null;
    o.speed_goal_met = g.speedup !== undefined && k ? o.speedup >= g.speedup : g.wallS !== undefined ? o.median_wall_s < g.wallS : null;
    o.rss_goal_met = g.rssMb !== undefined ? o.max_rss_mb < g.rssMb : null;
    if (c.row) rows.push(rowOf(c, k, o));
  }
}

const env = {
  date: new Date().toISOString(),
  commit: capture('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown',
  node: process.version,
  python: capture('python3', ['--version']) ?? 'unknown',
  cpu: `${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}`,
  kunit_py: kunit.path ?? `unavailable: ${kunit.error.split('\n')[0]}`,
  ours: OURS_CMD ? `BENCH_OURS_CMD=${OURS_CMD}` : 'node dist/runner/bin.js',
  big_log: `${big.file} (${big.lines} lines)`,
  c_log: `${cLog.file} (${cLog.lines} lines)`,
  runs: RUNS,
};
const yesNo = (v) => (v === null || v === undefined ? '—' : v ? 'yes' : '**NO**');
const lines = [
  `## kunit-bridge parse benchmark`,
  '',
  ...Object.entries(env).map(([k, v]) => `- ${k}: ${v}`),
  '',
  `| case | what | log lines | tool | median wall s | peak RSS MB | exit | kunit.py/ours | speed goal | memory goal |`,
  '|---|---|--:|---|--:|--:|--:|--:|:-:|:-:|',
  ...results.map(
    (r) =>
      `| ${r.case} | ${r.what} | ${r.log_lines} | ${r.tool} | ${fmt(r.median_wall_s, 3)} | ` +
      `${fmt(r.max_rss_mb, 1)} | ${r.exits.join(',')} | ${r.speedup ? `${fmt(r.speedup, 1)}×` : '—'} | ` +
      `${r.tool === 'ours' ? `${yesNo(r.speed_goal_met)} | ${yesNo(r.rss_goal_met)}` : '— | —'} |`,
  ),
  '',
  'Goals (issue 14): a ≥50× kunit.py and <100 MB; k ≥30× and <100 MB; c <2 s and <300 MB.',
  'Exit 1 is expected from both tools: the fixture log has a failing Rust test; exit 3 (incomplete) from p.',
];
const incomplete = [
  ...(kunit.error ? ['kunit.py unavailable: its side was not run'] : []),
  ...(OURS_CMD ? ['BENCH_OURS_CMD set: "ours" is a stand-in'] : []),
  ...(ONLY ? [`BENCH_PARSE_CASES=${ONLY.join(',')}: only these cases ran`] : []),
  ...new Set(problems),
];
if (incomplete.length) lines.push('', '**Incomplete run:**', ...incomplete.map((p) => `- ${p}`));
console.log(lines.join('\n'));

const goalsMet = results.every((r) => r.speed_goal_met !== false && r.rss_goal_met !== false);
const exitCode = incomplete.length ? 2 : goalsMet ? 0 : 1;
const jsonFile = path.join(WORK, 'parse-latest.json');
fs.writeFileSync(
  jsonFile,
  `${JSON.stringify({ ...env, goals: Object.fromEntries(cases.map((c) => [c.id, c.goal])), rows, incomplete, exit: exitCode, results }, null, 2)}\n`,
);
console.log(`\nResults: ${jsonFile}`);
process.exit(exitCode);
