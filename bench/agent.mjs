// Agent benchmark (`npm run bench:agent`; part of `npm run bench`): what the in-guest agent costs
// and what repeating in one boot buys, side by side with kunit.py, on x86_64-rust-kunit-v2 (TCG).
//
// Commands, each BENCH_RUNS times (default 3), the order rotated every repetition, each in its own
// bench/measure.py process (wall time, peak RSS):
//   kunit.py exec            one boot, the 195 built-in tests
//   kunit.py exec ×3         three boots in a row: three attempts of every test, kunit.py's way
//   serial                   kunit-bridge run --jobs 1 (the console only)
//   agent                    kunit-bridge run --agent (KTAP from /dev/kmsg over WebSocket)
//   repeat 3                 kunit-bridge run --repeat 3 (three attempts of every suite, one boot)
//   modules                  kunit-bridge run --modules DIR --jobs 1 (195 + 72 tests)
//   modules -j2              the same with --jobs 2 (a second, module-only lane)
// Equal work is checked on every run: kunit.py's "Ran N tests" and results.json's counts.
// Prints a markdown table (median, min–max) and the ratios; writes $TMPDIR/kunit-bridge-bench/agent-latest.json.
// Exit: 0 complete; 2 incomplete (a tool missing, a command failed, counts that do not match).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, WORK, benchRuns, capture, die, findKunitPy, killMeasured, measure as measureCommand, median } from './common.mjs';

const KDIR = path.resolve(ROOT, '..', 'shared', 'fixtures', 'kernels', 'x86_64-rust-kunit-v2');
const IMAGE = path.join(KDIR, 'bzImage');
const MODULES = path.join(KDIR, 'modules');
const CLI = path.join(ROOT, 'dist/runner/bin.js');
const SCRATCH = path.join(WORK, `agent-${process.pid}`);
const RUNS = benchRuns();
const loadavg = () => (fs.existsSync('/proc/loadavg') ? fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') : '');
const LOAD_BEFORE = loadavg();

if (!fs.existsSync(IMAGE)) die(`${IMAGE} is missing`);
if (!fs.existsSync(CLI)) die(`${CLI} missing: run \`npm run build\` first`);
if (!capture('qemu-system-x86_64', ['--version'])) die('qemu-system-x86_64 not found: apt-get install -y qemu-system-x86');
fs.mkdirSync(SCRATCH, { recursive: true });
const kunit = findKunitPy();
if (kunit.error) console.error(`bench: kunit.py unavailable, running kunit-bridge only:\n${kunit.error}\n`);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killMeasured();
    console.error(`\nbench: interrupted; scratch files left in ${SCRATCH}`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

let seq = 0;
const fresh = (name) => {
  const d = path.join(SCRATCH, `${String(++seq).padStart(3, '0')}-${name}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};

const measure = (argv, opts = {}) => measureCommand(argv, { cwd: SCRATCH, ...opts });

let kunitPyDir;
if (kunit.path) {
  kunitPyDir = path.join(SCRATCH, 'kunitpy-build');
  fs.mkdirSync(path.join(kunitPyDir, 'arch/x86/boot'), { recursive: true });
  fs.copyFileSync(IMAGE, path.join(kunitPyDir, 'arch/x86/boot/bzImage'));
  fs.copyFileSync(path.join(KDIR, 'config'), path.join(kunitPyDir, '.config'));
  fs.chmodSync(path.join(kunitPyDir, '.config'), 0o644);
  fs.copyFileSync(path.join(path.dirname(kunit.path), 'configs/default.config'), path.join(kunitPyDir, '.kunitconfig'));
}

const kunitPyTotals = (text) =>
  [...text.replace(/\x1b\[[0-9;]*m/g, '').matchAll(/Testing complete\. Ran (\d+) tests/g)].map((m) => Number(m[1]));
const cases = [
  kunit.path && { id: 'kpy', label: 'kunit.py exec', boots: 1, kunitPy: 1 },
  kunit.path && { id: 'kpy3', label: 'kunit.py exec ×3', boots: 3, kunitPy: 3 },
  { id: 'serial', label: 'kunit-bridge run (serial)', args: ['-j', '1'], total: 195 },
  { id: 'agent', label: 'kunit-bridge run --agent', args: ['--agent'], total: 195 },
  { id: 'repeat3', label: 'kunit-bridge run --repeat 3', args: ['--repeat', '3'], total: 195, attempts: 3 },
  { id: 'modules', label: 'kunit-bridge run --modules (-j1)', args: ['--modules', MODULES, '-j', '1'], total: 267 },
  { id: 'modules-j2', label: 'kunit-bridge run --modules -j2', args: ['--modules', MODULES, '-j', '2'], total: 267 },
].filter(Boolean);

const problems = [];
const results = Object.fromEntries(cases.map((c) => [c.id, []]));
for (let i = 0; i < RUNS; i++) {
  const order = cases.map((_, j) => cases[(i + j) % cases.length]);
  for (const c of order) {
    const dir = fresh(c.id);
    let m;
    if (c.kunitPy) {
      const out = path.join(dir, 'stdout.txt');
      const one = `python3 '${kunit.path}' exec --build_dir='${kunitPyDir}' --arch=x86_64`;
      m = await measure(['sh', '-c', Array(c.kunitPy).fill(one).join('; ')], { stdout: out, stderr: `${out}.err` });
      const totals = m.error ? [] : kunitPyTotals(fs.readFileSync(out, 'utf8'));
      if (!m.error && (totals.length !== c.kunitPy || totals.some((t) => t !== 195)))
        problems.push(`${c.label}: ran ${totals.join('+') || 'no'} tests, not ${c.kunitPy}×195 (${out})`);
    } else {
      const outDir = path.join(dir, 'out');
      m = await measure([process.execPath, CLI, 'run', '--kernel', IMAGE, '--accel', 'tcg', ...c.args, '-o', outDir, '-q'], {
        env: { KUNIT_BRIDGE_CACHE: path.join(dir, 'cache') },
        stderr: path.join(dir, 'stderr.txt'),
      });
      let r;
      try {
        r = JSON.parse(fs.readFileSync(path.join(outDir, 'results.json'), 'utf8'));
      } catch {
        /* checked below */
      }
      if (!m.error && r?.counts?.total !== c.total)
        problems.push(`${c.label}: ${r?.counts?.total ?? 'no'} tests, not ${c.total} (${outDir})`);
      if (!m.error && c.attempts && r?.documents?.[0]?.tests?.[1]?.attempts?.length !== c.attempts)
        problems.push(`${c.label}: not ${c.attempts} attempts (${outDir})`);
    }
    if (m.error) problems.push(`${c.label}: ${m.error}`);
    results[c.id].push(m);
    process.stderr.write('.');
  }
}
process.stderr.write('\n');

const stat = (id) => {
  const w = (results[id] ?? []).filter((m) => !m.error).map((m) => m.wall_s);
  return w.length
    ? {
        median: median(w),
        min: Math.min(...w),
        max: Math.max(...w),
        rss: median(results[id].filter((m) => !m.error).map((m) => m.maxrss_mb)),
      }
    : undefined;
};
console.log(`\nx86_64-rust-kunit-v2 under TCG, ${RUNS} run(s) each (median wall time, min–max)\n`);
console.log('| command | wall s | min–max | peak RSS MB |');
console.log('| --- | ---: | ---: | ---: |');
for (const c of cases) {
  const s = stat(c.id);
  console.log(
    `| ${c.label} | ${s ? s.median.toFixed(2) : '—'} | ${s ? `${s.min.toFixed(2)}–${s.max.toFixed(2)}` : '—'} | ${s ? s.rss.toFixed(0) : '—'} |`,
  );
}
const ratio = (a, b) => {
  const x = stat(a);
  const y = stat(b);
  return x && y ? (x.median / y.median).toFixed(2) : '—';
};
console.log('');
console.log(`- agent ÷ serial: ${ratio('agent', 'serial')} (the guest's Node and the 9p root: a fixed cost per boot)`);
console.log(`- kunit.py exec ×3 ÷ kunit-bridge --repeat 3: ${ratio('kpy3', 'repeat3')} (three attempts of every test)`);
console.log(`- kunit.py exec ÷ kunit-bridge serial: ${ratio('kpy', 'serial')}`);
console.log(`- --modules -j1 ÷ -j2: ${ratio('modules', 'modules-j2')}`);
// Issue 14's two agent rows (the lead's `npm run bench` writes them into docs/benchmarks.md).
const s = (id) => stat(id)?.median;
const rows = [
  {
    measure: '`run --agent`, x86_64-rust-kunit-v2',
    reference: s('serial') === undefined ? '—' : `serial ${s('serial').toFixed(2)} s`,
    bridge:
      s('agent') === undefined || s('serial') === undefined
        ? '—'
        : `${s('agent').toFixed(2)} s (+${(s('agent') - s('serial')).toFixed(2)} s per boot)`,
    ratio: ratio('agent', 'serial') === '—' ? '—' : `${ratio('agent', 'serial')}× serial`,
    goal: '<= serial + 1.5 s',
    met: s('agent') === undefined || s('serial') === undefined ? null : s('agent') - s('serial') <= 1.5,
  },
  {
    measure: '`run --repeat 3` vs three `kunit.py exec`',
    reference: s('kpy3') === undefined ? '—' : `kunit.py exec ×3 ${s('kpy3').toFixed(2)} s`,
    bridge: s('repeat3') === undefined ? '—' : `${s('repeat3').toFixed(2)} s`,
    ratio: ratio('kpy3', 'repeat3') === '—' ? '—' : `${ratio('kpy3', 'repeat3')}x`,
    goal: '>= 1.2x',
    met: s('kpy3') === undefined || s('repeat3') === undefined ? null : s('kpy3') / s('repeat3') >= 1.2,
  },
];
const out = {
  date: new Date().toISOString(),
  runs: RUNS,
  load: { before: LOAD_BEFORE, after: loadavg() },
  rows,
  cases: cases.map((c) => ({ ...c, stat: stat(c.id), raw: results[c.id] })),
  problems,
};
fs.writeFileSync(path.join(WORK, 'agent-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
if (problems.length) {
  console.log(`\nIncomplete:\n${problems.map((p) => `- ${p}`).join('\n')}\nScratch files: ${SCRATCH}`);
  process.exit(2);
}
fs.rmSync(SCRATCH, { recursive: true, force: true });
