// `run` benchmark: booting KUnit kernels under QEMU (TCG), kunit-bridge against bare QEMU and
// against the kernel's own `kunit.py exec`. `npm run bench:run` alone; `npm run bench` runs
// bench/parse.mjs, then this (bench/index.mjs).
//
// Two fixture kernels from ../shared/fixtures/kernels, each command BENCH_RUNS times (default 3),
// the order of the commands rotated every repetition, every command in its own bench/measure.py
// process (wall time; stdin /dev/null as kunit-bridge gives QEMU), in its own process group:
//   rust  x86_64-rust-kunit (192 tests, ~1.5 s):
//         bare QEMU with exactly the argv kunit-bridge builds at --jobs 1 (buildQemuCommand from
//         dist/runner/qemu/argv.js, accel tcg; console to /dev/null), kunit.py exec,
//         kunit-bridge run --jobs 1 --accel tcg -q.            Goal: kunit-bridge ≤ 1.03 × bare QEMU.
//   all   x86_64-kunit-all (390 tests, ~8 s): bare QEMU with kunit.py's own command line (the
//         fixture's README), bare QEMU with kunit-bridge's argv (for information), kunit.py exec,
//         kunit-bridge --jobs 1, --jobs 2 cold (an empty KUNIT_BRIDGE_CACHE every run: includes
//         the listing boot), --jobs 2 warm (a copy, every run, of a cache primed by one unmeasured
//         --jobs 2 run).                                       Goals (issue 14): kunit.py ÷ --jobs 2
//         ≥ 1.6 cold, ≥ 1.7 warm.
// kunit.py exec gets a throw-away build dir: arch/x86/boot/bzImage (copy of the fixture image),
// .config (the fixture's config) and .kunitconfig (kunit.py's configs/default.config, which
// kunit.py itself copies there on first use; seeded here so every measured run is alike).
// Its time includes its KTAP parsing (exec parses the console as it streams).
// Equal work is checked on every run: kunit.py's "Ran N tests: …" line and kunit-bridge's
// results.json counts must agree (x86_64-kunit-all: 390 = 347 passed + 43 skipped), and
// kunit-bridge --jobs 1 must report the same kernel command line as the bare-QEMU argv.
// Every kunit-bridge run gets its own KUNIT_BRIDGE_CACHE: the user's cache is never touched.
//
// Prints a markdown table (median wall s, min–max, × faster than kunit.py = kunit.py ÷ case,
// ÷ bare QEMU = case ÷ the kernel's reference bare QEMU) and the goals; writes
// $TMPDIR/kunit-bridge-bench/run-latest.json, with `rows`: issue 14's three `run` measures, as
// strings for docs/benchmarks.md (measure, reference, bridge, ratio, goal, met). Scratch files go to $TMPDIR/kunit-bridge-bench/
// run-<pid>/, removed at the end unless something went wrong.
// Exit: 0 full run, goals met; 1 full run, a goal missed; 2 incomplete (QEMU, a fixture or
// kunit.py missing, a command failed or timed out, counts that do not match).
// Env: BENCH_RUNS=N; BENCH_TIMEOUT_S (per command, default 600); BENCH_RUN_CASES=kunitpy,ours-j2-cold,…
// (only these case ids, on the kernels that have them; the run then counts as incomplete).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, WORK, benchRuns, capture, die, findKunitPy, killMeasured, measure as measureCommand, median } from './common.mjs';

const SHARED = path.resolve(ROOT, '..', 'shared');
const KERNELS = path.join(SHARED, 'fixtures/kernels');
const CLI = path.join(ROOT, 'dist/runner/bin.js');
const ARGV_JS = path.join(ROOT, 'dist/runner/qemu/argv.js');
const SCRATCH = path.join(WORK, `run-${process.pid}`);
const GOAL_OVERHEAD = 1.03; // kunit-bridge --jobs 1 ÷ bare QEMU, at most
const GOAL_SPEEDUP = 1.6; // kunit.py ÷ kunit-bridge --jobs 2 with an empty cache, at least
const GOAL_SPEEDUP_WARM = 1.7; // the same with the list and timings cached

const RUNS = benchRuns();
const ONLY = process.env.BENCH_RUN_CASES?.split(',').filter(Boolean);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 600);
if (!(TIMEOUT_S > 0)) die(`BENCH_TIMEOUT_S must be a positive number, not ${process.env.BENCH_TIMEOUT_S}`);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killMeasured();
    console.error(`\nbench: interrupted; scratch files left in ${SCRATCH}`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

/** One command under measure.py, in the scratch directory, with BENCH_TIMEOUT_S. */
const measure = (argv, opts = {}) => measureCommand(argv, { cwd: SCRATCH, timeoutS: TIMEOUT_S, ...opts });

const fmt = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const readJson = (f) => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return undefined;
  }
};

/** Counts in one comparable shape: total, passed, failed, skipped, other (crashed, errors, …). */
function norm(c) {
  const total = c.total ?? 0;
  const passed = c.passed ?? 0;
  const failed = c.failed ?? 0;
  const skipped = c.skipped ?? 0;
  return { total, passed, failed, skipped, other: total - passed - failed - skipped };
}
const countsText = (c) => (c ? `${c.total} (${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.other} other)` : '?');
// Passed and skipped are compared together: on x86_64-kunit-all, stackinit.test_switch_1_none passes in some
// boots and skips in others (it depends on the stack's contents), in kunit.py's boots as in ours.
const sameCounts = (a, b) => ['total', 'failed', 'other'].every((k) => a[k] === b[k]) && a.passed + a.skipped === b.passed + b.skipped;

/** kunit.py's summary line: "Testing complete. Ran 390 tests: passed: 347, skipped: 43". */
function kunitPyCounts(text) {
  const m = /Testing complete\. Ran (\d+) tests:?(.*)$/m.exec(text.replace(/\x1b\[[0-9;]*m/g, ''));
  if (!m) return undefined;
  const c = { total: Number(m[1]) };
  for (const [, k, v] of m[2].matchAll(/(\w+): (\d+)/g)) c[k] = Number(v);
  // kunit.py's total = passed + failed + crashed + skipped; errors are not tests.
  return norm(c);
}

// ---------------------------------------------------------------------------------------------

fs.mkdirSync(SCRATCH, { recursive: true });
if (!fs.existsSync(CLI) || !fs.existsSync(ARGV_JS)) die(`${CLI} missing: run \`npm run build\` first`);
const { buildQemuCommand } = await import(pathToFileURL(ARGV_JS).href);
const qemuVersion = capture('qemu-system-x86_64', ['--version'])?.split('\n')[0];
if (!qemuVersion) die('qemu-system-x86_64 not found: apt-get install -y qemu-system-x86');
const kunit = findKunitPy();
if (kunit.error) console.error(`bench: kunit.py unavailable, running the other commands only:\n${kunit.error}\n`);
// Taken at the start, as dist/ was built (from the working tree: maybe with uncommitted changes).
const commit =
  `${capture('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown'}` +
  `${capture('git', ['status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : ''}`;
const loadBefore = os.loadavg();
const uptimeBefore = capture('uptime', []) ?? '';

const problems = [];
const kernels = [
  { id: 'rust', dir: 'x86_64-rust-kunit', what: 'x86_64-rust-kunit', expect: undefined },
  { id: 'all', dir: 'x86_64-kunit-all', what: 'x86_64-kunit-all', expect: { total: 390, passed: 347, failed: 0, skipped: 43, other: 0 } },
];

let seq = 0;
const fresh = (name) => {
  const d = path.join(SCRATCH, `${String(++seq).padStart(3, '0')}-${name}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};

/** A kunit.py build dir for one fixture (see the header). */
function kunitPyBuildDir(k) {
  const dir = path.join(SCRATCH, `kunitpy-build-${k.id}`);
  fs.mkdirSync(path.join(dir, 'arch/x86/boot'), { recursive: true });
  fs.copyFileSync(k.image, path.join(dir, 'arch/x86/boot/bzImage'));
  fs.copyFileSync(k.config, path.join(dir, '.config'));
  fs.chmodSync(path.join(dir, '.config'), 0o644);
  const defaultConfig = path.join(path.dirname(kunit.path), 'configs/default.config');
  fs.copyFileSync(defaultConfig, path.join(dir, '.kunitconfig'));
  return dir;
}

/** The commands for one kernel: { id, label, role, prepare(i) → { argv, env, stdout, stderr, check(m) } }. */
function toolsFor(k) {
  const ourCmd = buildQemuCommand({ arch: 'x86_64', kernel: k.image, accel: 'tcg' }, fs.existsSync);
  const bareOurs = {
    id: 'bare-ours',
    label: "bare QEMU, kunit-bridge's argv",
    role: k.id === 'rust' ? 'bare' : undefined,
    prepare: () => ({ argv: [ourCmd.binary, ...ourCmd.args], check: (m) => (m.exit === 0 ? [] : [`exit ${m.exit}`]) }),
  };
  // kunit.py's own QEMU command (tools/testing/kunit/kunit_kernel.py + qemu_configs/x86_64.py),
  // as the fixture's README gives it.
  const bareKunitPy = {
    id: 'bare-kunitpy',
    label: "bare QEMU, kunit.py's argv",
    role: 'bare',
    prepare: () => ({
      argv: [
        'qemu-system-x86_64',
        '-nodefaults',
        '-m',
        '1024',
        '-bios',
        'qboot.rom',
        '-kernel',
        k.image,
        '-append',
        'kunit.enable=1 console=ttyS0 kunit_shutdown=reboot',
        '-no-reboot',
        '-nographic',
        '-serial',
        'stdio',
      ],
      check: (m) => (m.exit === 0 ? [] : [`exit ${m.exit}`]),
    }),
  };
  const kunitPy = kunit.path && {
    id: 'kunitpy',
    label: 'kunit.py exec',
    role: 'kunitpy',
    prepare: () => {
      const out = path.join(fresh('kunitpy'), 'stdout.txt');
      return {
        argv: ['python3', kunit.path, 'exec', `--build_dir=${k.kunitPyDir}`, '--arch=x86_64'],
        stdout: out,
        stderr: `${out}.err`,
        check: (m) => {
          const text = fs.readFileSync(out, 'utf8');
          const counts = kunitPyCounts(text);
          if (!counts) return [`no "Testing complete. Ran N tests" line in ${out}`];
          m.counts = counts;
          // kunit.py exits 1 when a test failed, as the Rust fixture's one failing test does.
          return m.exit === 0 || (m.exit === 1 && counts.failed + counts.other > 0) ? [] : [`exit ${m.exit}`];
        },
      };
    },
  };
  const ours = (id, label, jobs, cache) => ({
    id,
    label,
    role: jobs === 2 ? 'jobs2' : 'ours1',
    prepare: () => {
      const dir = fresh(id);
      const cacheDir = path.join(dir, 'cache');
      const primed = cache === 'warm' && k.primedCache;
      if (primed) fs.cpSync(k.primedCache, cacheDir, { recursive: true });
      const outDir = path.join(dir, 'out');
      return {
        argv: [process.execPath, CLI, 'run', '--kernel', k.image, '--accel', 'tcg', '-j', String(jobs), '-o', outDir, '-q'],
        env: { KUNIT_BRIDGE_CACHE: cacheDir },
        stderr: path.join(dir, 'stderr.txt'),
        check: (m) => {
          const r = readJson(path.join(outDir, 'results.json'));
          if (!r?.counts) return [`no results.json in ${outDir}`];
          m.counts = norm(r.counts);
          m.lanes = Number(r.metadata?.lanes);
          const p = [];
          if (!(m.exit === 0 || (m.exit === 1 && m.counts.failed > 0))) p.push(`exit ${m.exit}`);
          if (jobs === 1 && r.metadata?.cmdline !== ourCmd.cmdline) {
            p.push(`kernel command line ${JSON.stringify(r.metadata?.cmdline)}, not the bare one ${JSON.stringify(ourCmd.cmdline)}`);
          }
          if (jobs === 2 && m.lanes !== 2) p.push(`${m.lanes} lanes, not 2`);
          if (cache === 'warm' && !primed) p.push('no warm cache: the priming run failed');
          return p;
        },
      };
    },
  });
  const j1 = ours('ours-j1', 'kunit-bridge --jobs 1', 1);
  if (k.id === 'rust') return [bareOurs, kunitPy, j1].filter(Boolean);
  return [
    bareKunitPy,
    bareOurs,
    kunitPy,
    j1,
    ours('ours-j2-cold', 'kunit-bridge --jobs 2, cold cache', 2, 'cold'),
    ours('ours-j2-warm', 'kunit-bridge --jobs 2, warm cache', 2, 'warm'),
  ].filter(Boolean);
}

async function runOne(k, t, label) {
  const job = t.prepare();
  process.stderr.write(`bench: ${k.id} ${t.id} ${label} ... `);
  const m = await measure(job.argv, job);
  if (!m.error) {
    const p = job.check(m);
    if (p.length) m.error = p.join('; ');
  }
  console.error(
    m.error
      ? `FAILED: ${m.error}`
      : `${m.wall_s} s, exit ${m.exit}${m.counts ? `, ${m.counts.total} tests` : ''}${m.lanes ? `, ${m.lanes} lane(s)` : ''}`,
  );
  m.argv = job.argv;
  if (job.env) m.env = job.env;
  return m;
}

const results = [];
for (const k of kernels) {
  k.image = path.join(KERNELS, k.dir, 'bzImage');
  k.config = path.join(KERNELS, k.dir, 'config');
  if (!fs.existsSync(k.image) || !fs.existsSync(k.config)) {
    problems.push(`${k.what}: ${k.image} or its config missing`);
    continue;
  }
  if (kunit.path) k.kunitPyDir = kunitPyBuildDir(k);
  const tools = toolsFor(k).filter((t) => !ONLY || ONLY.includes(t.id));
  if (tools.length === 0) continue;
  // Unmeasured: the warm cache (also warms the page cache for this kernel), or one pass of all.
  const warmups = k.id === 'all' ? toolsFor(k).filter((t) => t.id === 'ours-j2-cold') : tools;
  for (const t of warmups) {
    const m = await runOne(k, t, 'warm-up (not measured)');
    if (m.error) problems.push(`${k.id} ${t.id} warm-up: ${m.error}`);
    if (k.id === 'all' && !m.error) k.primedCache = m.env.KUNIT_BRIDGE_CACHE;
  }
  const runs = Object.fromEntries(tools.map((t) => [t.id, []]));
  for (let i = 0; i < RUNS; i++) {
    const order = tools.map((_, j) => tools[(i + j) % tools.length]);
    for (const t of order) {
      const m = await runOne(k, t, `run ${i + 1}/${RUNS}`);
      if (m.error) problems.push(`${k.id} ${t.id} run ${i + 1}: ${m.error}`);
      runs[t.id].push(m);
    }
  }
  // Equal work: every counted run agrees (and with the fixture's known totals).
  const counted = tools.flatMap((t) => runs[t.id].filter((m) => m.counts).map((m) => ({ t, m })));
  const ref = k.expect ?? counted[0]?.m.counts;
  for (const { t, m } of counted) {
    if (!sameCounts(m.counts, ref)) problems.push(`${k.id} ${t.id}: ran ${countsText(m.counts)}, expected ${countsText(ref)}`);
  }
  for (const t of tools) {
    const rs = runs[t.id];
    const walls = rs.filter((m) => !m.error).map((m) => m.wall_s);
    results.push({
      kernel: k.what,
      case: t.id,
      label: t.label,
      role: t.role,
      argv: rs[0]?.argv,
      runs: rs,
      median_wall_s: walls.length ? +median(walls).toFixed(4) : NaN,
      min_wall_s: walls.length ? Math.min(...walls) : NaN,
      max_wall_s: walls.length ? Math.max(...walls) : NaN,
      counts: ref ?? null,
    });
  }
  const rows = results.filter((r) => r.kernel === k.what);
  const kpy = rows.find((r) => r.role === 'kunitpy');
  const bare = rows.find((r) => r.role === 'bare');
  for (const r of rows) {
    r.speedup_vs_kunit_py = kpy ? +(kpy.median_wall_s / r.median_wall_s).toFixed(3) : null;
    r.ratio_vs_bare_qemu = bare ? +(r.median_wall_s / bare.median_wall_s).toFixed(3) : null;
    r.bare_reference = bare?.case ?? null;
  }
}

const byCase = (kernel, id) => results.find((r) => r.kernel === kernel && r.case === id);
const goal = (name, r, value, ok) => ({
  name,
  case: r ? `${r.kernel} ${r.case}` : null,
  value: r ? value : null,
  met: r && Number.isFinite(value) ? ok(value) : null,
});
const rustJ1 = byCase('x86_64-rust-kunit', 'ours-j1');
const cold = byCase('x86_64-kunit-all', 'ours-j2-cold');
const warm = byCase('x86_64-kunit-all', 'ours-j2-warm');
const goals = [
  goal(
    `x86_64-rust-kunit: kunit-bridge --jobs 1 ≤ ${GOAL_OVERHEAD} × bare QEMU`,
    rustJ1,
    rustJ1?.ratio_vs_bare_qemu,
    (v) => v <= GOAL_OVERHEAD,
  ),
  goal(
    `x86_64-kunit-all: --jobs 2 cold ≥ ${GOAL_SPEEDUP}× faster than kunit.py`,
    cold,
    cold?.speedup_vs_kunit_py,
    (v) => v >= GOAL_SPEEDUP,
  ),
  goal(
    `x86_64-kunit-all: --jobs 2 warm ≥ ${GOAL_SPEEDUP_WARM}× faster than kunit.py`,
    warm,
    warm?.speedup_vs_kunit_py,
    (v) => v >= GOAL_SPEEDUP_WARM,
  ),
];

// Issue 14's table rows (docs/benchmarks.md), as strings.
const secs = (r) => (r && Number.isFinite(r.median_wall_s) ? `${r.median_wall_s.toFixed(2)} s` : '—');
const times = (v, d) => (Number.isFinite(v) ? `${v.toFixed(d)}x` : '—');
const kpyAll = results.find((r) => r.kernel === 'x86_64-kunit-all' && r.role === 'kunitpy');
const bareRust = results.find((r) => r.kernel === 'x86_64-rust-kunit' && r.role === 'bare');
const kunitPyRow = (measure, r, goalX, met) => ({
  measure,
  reference: `kunit.py exec ${secs(kpyAll)}`,
  bridge: secs(r),
  ratio: times(r?.speedup_vs_kunit_py, 2),
  goal: `>= ${goalX}x`,
  met,
});
const rows = [
  kunitPyRow('`run --jobs 2`, x86_64-kunit-all, empty cache', cold, GOAL_SPEEDUP, goals[1].met),
  kunitPyRow('`run --jobs 2`, x86_64-kunit-all, timings cached', warm, GOAL_SPEEDUP_WARM, goals[2].met),
  {
    measure: '`run --jobs 1`, x86_64-rust-kunit',
    reference: `bare QEMU ${secs(bareRust)}`,
    bridge: secs(rustJ1),
    ratio: `${times(rustJ1?.ratio_vs_bare_qemu, 3)} bare`,
    goal: `<= ${GOAL_OVERHEAD}x bare`,
    met: goals[0].met,
  },
];

const loadAfter = os.loadavg();
const env = {
  date: new Date().toISOString(),
  commit,
  node: process.version,
  python: capture('python3', ['--version']) ?? 'unknown',
  qemu: qemuVersion,
  cpu: `${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}`,
  kunit_py: kunit.path ?? `unavailable: ${kunit.error.split('\n')[0]}`,
  runs: RUNS,
  load_before: `${loadBefore.map((x) => x.toFixed(2)).join(', ')} (${uptimeBefore})`,
  load_after: `${loadAfter.map((x) => x.toFixed(2)).join(', ')} (${capture('uptime', []) ?? ''})`,
};
const yesNo = (v) => (v === null || v === undefined ? '—' : v ? 'yes' : '**NO**');
const lines = [
  '## kunit-bridge run benchmark (QEMU TCG)',
  '',
  ...Object.entries(env).map(([key, v]) => `- ${key}: ${v}`),
  '',
  '| kernel | case | median wall s | min–max s | × faster than kunit.py | ÷ bare QEMU |',
  '|---|---|--:|--:|--:|--:|',
  ...results.map(
    (r) =>
      `| ${r.kernel} | ${r.label}${r.role === 'bare' ? ' (reference)' : ''} | ${fmt(r.median_wall_s, 3)} | ` +
      `${fmt(r.min_wall_s, 2)}–${fmt(r.max_wall_s, 2)} | ${r.speedup_vs_kunit_py ? `${fmt(r.speedup_vs_kunit_py, 2)}×` : '—'} | ` +
      `${r.ratio_vs_bare_qemu ? fmt(r.ratio_vs_bare_qemu, 3) : '—'} |`,
  ),
  '',
  ...kernels
    .filter((k) => results.some((r) => r.kernel === k.what))
    .map(
      (k) =>
        `- ${k.what}: tests per run (kunit.py and kunit-bridge, checked on every run): ` +
        countsText(results.find((r) => r.kernel === k.what).counts),
    ),
  '',
  'Goals:',
  ...goals.map((g) => `- ${g.name}: ${fmt(g.value, 3)} → ${yesNo(g.met)}`),
];
const incomplete = [
  ...(kunit.error ? ['kunit.py unavailable: its side was not run'] : []),
  ...(ONLY ? [`BENCH_RUN_CASES=${ONLY.join(',')}: only these cases ran`] : []),
  ...new Set(problems),
];
if (incomplete.length) lines.push('', '**Incomplete run:**', ...incomplete.map((p) => `- ${p}`), '', `Scratch files kept: ${SCRATCH}`);
console.log(lines.join('\n'));

const goalsMet = goals.every((g) => g.met === true);
const exitCode = incomplete.length ? 2 : goalsMet ? 0 : 1;
const jsonFile = path.join(WORK, 'run-latest.json');
fs.writeFileSync(
  jsonFile,
  `${JSON.stringify({ ...env, load_before: loadBefore, load_after: loadAfter, rows, goals, incomplete, exit: exitCode, results }, null, 2)}\n`,
);
if (!incomplete.length) fs.rmSync(SCRATCH, { recursive: true, force: true });
console.log(`\nResults: ${jsonFile}`);
process.exit(exitCode);
