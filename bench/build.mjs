// `build` benchmark: kunit-bridge's `build` / `run --build` against the kernel's own kunit.py, side
// by side on the same tree (Debian's linux-source-6.12, unpacked once into
// ~/.cache/kunit-bridge/linux-source/<version>/ as the e2e test does, and hard-link copied into the
// scratch dir so nothing writes into the cache) and the same kunitconfig (CONFIG_KUNIT,
// CONFIG_KUNIT_EXAMPLE_TEST, CONFIG_LIST_KUNIT_TEST), x86_64, gcc, make -j$(nproc):
//   cold       `kunit.py build --arch x86_64 --kunitconfig F --build_dir A` against
//              `kunit-bridge build --kunitconfig F --build-dir B`, each in a fresh build dir, ONE run
//              each (a cold build is many minutes of make; the order alternates with BENCH_BUILD_FIRST).
//              Goal: the same time (it is make): kunit-bridge ÷ kunit.py ≤ 1.10.
//   no-change  then, with nothing changed, `kunit.py run --arch x86_64 --kunitconfig F --build_dir A`
//              (make olddefconfig, make all compile_commands.json, boot, parse) against
//              `kunit-bridge run --build --kunitconfig F --build-dir B --accel tcg -j 1 -q`, BENCH_RUNS
//              times each (default 3), alternating, medians. Goal: kunit.py ÷ kunit-bridge ≥ 2.
// kunit.py runs from the tree (tools/testing/kunit/kunit.py), as a kernel developer runs it; both
// boot the same kind of image in QEMU under TCG. Equal work: both must report the same test count.
// BENCH_BUILD_COLD=0 skips the cold builds and reuses the tree and build dirs of an earlier run (kept in
// $TMPDIR/kunit-bridge-bench/build/: linux/, kunitpy/, bridge/), which must be there.
// Writes $TMPDIR/kunit-bridge-bench/build-latest.json (with `rows`). Exit: 0 goals met, 1 a goal
// missed, 2 incomplete (no linux-source-6.12, a command failed).
// Env: BENCH_RUNS=N; BENCH_TIMEOUT_S (per command, default 3600); BENCH_BUILD_COLD=0; BENCH_BUILD_FIRST=kunitpy|bridge.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, WORK, benchRuns, die, killMeasured, measure, median } from './common.mjs';

const CLI = path.join(ROOT, 'dist/runner/bin.js');
const TARBALL = '/usr/src/linux-source-6.12.tar.xz';
const SCRATCH = path.join(WORK, 'build');
const RUNS = benchRuns();
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 3600);
const COLD = process.env.BENCH_BUILD_COLD !== '0';
const FIRST = process.env.BENCH_BUILD_FIRST === 'bridge' ? 'bridge' : 'kunitpy';

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killMeasured();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

/** The tree, unpacked once into the user's cache (the same place and key as test/helpers/linux-source.ts). */
function linuxSource() {
  if (!fs.existsSync(TARBALL)) die(`${TARBALL} is missing: apt-get install linux-source-6.12`);
  let version;
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
    version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'linux-source-6.12'], { encoding: 'utf8' }).trim();
  } catch {
    const st = fs.statSync(TARBALL);
    version = `${st.size}-${Math.floor(st.mtimeMs)}`;
  }
  const root = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'kunit-bridge', 'linux-source');
  const tree = path.join(root, version);
  if (fs.existsSync(path.join(tree, 'Makefile'))) return tree;
  fs.mkdirSync(root, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(root, 'unpacking-'));
  console.error(`bench: unpacking ${TARBALL} into ${tree} ...`);
  execFileSync('tar', ['-xJf', TARBALL, '-C', tmp], { stdio: 'inherit' });
  try {
    fs.renameSync(path.join(tmp, 'linux-source-6.12'), tree);
  } catch (err) {
    if (!fs.existsSync(path.join(tree, 'Makefile'))) throw err;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  return tree;
}

const tree = path.join(SCRATCH, 'linux');
const kpyDir = path.join(SCRATCH, 'kunitpy');
const ourDir = path.join(SCRATCH, 'bridge');
const kunitconfig = path.join(SCRATCH, 'kunitconfig');
if (COLD || !fs.existsSync(tree)) {
  fs.rmSync(SCRATCH, { recursive: true, force: true });
  fs.mkdirSync(SCRATCH, { recursive: true });
  execFileSync('cp', ['-al', linuxSource(), tree]);
}
if (!COLD && !(fs.existsSync(path.join(kpyDir, '.config')) && fs.existsSync(path.join(ourDir, '.config'))))
  die(`BENCH_BUILD_COLD=0 needs the build dirs of an earlier run: ${kpyDir} and ${ourDir}`);
fs.writeFileSync(kunitconfig, 'CONFIG_KUNIT=y\nCONFIG_KUNIT_EXAMPLE_TEST=y\nCONFIG_LIST_KUNIT_TEST=y\n');
const kunitPy = path.join(tree, 'tools/testing/kunit/kunit.py');
const jobs = String(os.availableParallelism());

const kpyFlags = ['--arch', 'x86_64', '--kunitconfig', kunitconfig, '--build_dir', kpyDir, '--jobs', jobs];
const ourFlags = ['--source', tree, '--kunitconfig', kunitconfig, '--build-dir', ourDir, '--build-jobs', jobs];
const commands = {
  kunitpyCold: ['python3', kunitPy, 'build', ...kpyFlags],
  bridgeCold: [process.execPath, CLI, 'build', ...ourFlags, '-q'],
  kunitpyRun: ['python3', kunitPy, 'run', ...kpyFlags],
  bridgeRun: [
    process.execPath,
    CLI,
    'run',
    '--build',
    ...ourFlags,
    ...['--arch', 'x86_64', '--accel', 'tcg', '-j', '1', '-q'],
    '-o',
    path.join(SCRATCH, 'out'),
  ],
};

const problems = [];
const raw = [];
async function timed(name) {
  const out = path.join(SCRATCH, `${name}.out`);
  if (name === 'bridgeRun') fs.rmSync(path.join(SCRATCH, 'out'), { recursive: true, force: true });
  const r = await measure(commands[name], { cwd: tree, stdout: out, stderr: `${out}.err`, timeoutS: TIMEOUT_S });
  const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  raw.push({ name, ...r });
  if (r.error || r.exit !== 0) problems.push(`${name}: ${r.error ?? `exit ${r.exit}`} (${out}.err)`);
  return { ...r, text };
}

const loadBefore = os.loadavg();
const cold = {};
if (COLD) {
  const order = FIRST === 'bridge' ? ['bridgeCold', 'kunitpyCold'] : ['kunitpyCold', 'bridgeCold'];
  for (const name of order) {
    console.error(`bench: ${name} (a cold build: minutes) ...`);
    cold[name] = (await timed(name)).wall_s;
  }
}
const runs = { kunitpyRun: [], bridgeRun: [] };
const tests = { kunitpyRun: new Set(), bridgeRun: new Set() };
// One unmeasured round first: the no-change state (kunit.py's first run after its build still
// writes its last_used_kunitconfig; ours records the build's time).
for (const name of ['kunitpyRun', 'bridgeRun']) await timed(name);
for (let i = 0; i < RUNS; i++) {
  for (const name of i % 2 === 0 ? ['kunitpyRun', 'bridgeRun'] : ['bridgeRun', 'kunitpyRun']) {
    const r = await timed(name);
    runs[name].push(r.wall_s);
    if (name === 'kunitpyRun') tests.kunitpyRun.add(/Ran (\d+) tests/.exec(r.text)?.[1]);
    else {
      try {
        tests.bridgeRun.add(String(JSON.parse(fs.readFileSync(path.join(SCRATCH, 'out/results.json'), 'utf8')).counts.total));
      } catch {
        tests.bridgeRun.add(undefined);
      }
    }
  }
}
if ([...tests.kunitpyRun].join() !== [...tests.bridgeRun].join())
  problems.push(`not the same tests: kunit.py ran ${[...tests.kunitpyRun].join('/')}, kunit-bridge ${[...tests.bridgeRun].join('/')}`);

const s = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} s` : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const kpy = median(runs.kunitpyRun);
const ours = median(runs.bridgeRun);
const coldRatio = ratio(cold.kunitpyCold, cold.bridgeCold);
const loopRatio = ratio(kpy, ours);
const rows = [
  {
    measure: 'cold build (linux-source-6.12, x86_64 gcc, 3-option kunitconfig; one run each)',
    reference: COLD ? `kunit.py build ${s(cold.kunitpyCold)}` : 'not measured (BENCH_BUILD_COLD=0)',
    bridge: COLD ? s(cold.bridgeCold) : 'not measured',
    ratio: Number.isFinite(coldRatio) ? `${coldRatio.toFixed(2)}x` : 'n/a',
    goal: 'the same (it is make): >= 0.91x',
    met: Number.isFinite(coldRatio) ? coldRatio >= 1 / 1.1 : null,
  },
  {
    measure: 'no-change run --build (edit-test loop, nothing edited)',
    reference: `kunit.py run ${s(kpy)}`,
    bridge: s(ours),
    ratio: Number.isFinite(loopRatio) ? `${loopRatio.toFixed(2)}x` : 'n/a',
    goal: '>= 2x',
    met: Number.isFinite(loopRatio) ? loopRatio >= 2 : null,
  },
];
console.log(
  [
    '| measure | kunit.py | kunit-bridge | kunit.py ÷ kunit-bridge | goal | met |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...rows.map((r) => `| ${r.measure} | ${r.reference} | ${r.bridge} | ${r.ratio} | ${r.goal} | ${r.met} |`),
    '',
    `no-change runs (s): kunit.py ${runs.kunitpyRun.map((x) => x.toFixed(1)).join(', ')}; kunit-bridge ${runs.bridgeRun.map((x) => x.toFixed(1)).join(', ')}`,
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    ...problems.map((p) => `**Incomplete:** ${p}`),
  ].join('\n'),
);
const exit = problems.length ? 2 : rows.every((r) => r.met !== false) ? 0 : 1;
const file = path.join(WORK, 'build-latest.json');
fs.writeFileSync(
  file,
  `${JSON.stringify({ rows, runs, cold, raw, problems, load_before: loadBefore, load_after: os.loadavg(), exit }, null, 2)}\n`,
);
console.log(`\nResults: ${file}`);
process.exit(exit);
