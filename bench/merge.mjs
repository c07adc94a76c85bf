// Gating benchmark: `merge` of 20 shards of a 100,000-test run (every report at once), and
// `parse --kcidb` on the 1,000,000-line log (bench/common.mjs bigLog). Each case BENCH_RUNS times
// (default 3) under bench/measure.py: median wall time, largest peak RSS.
// The shards are made once per run in $TMPDIR/kunit-bridge-bench/shards/: 2,000 suites of 50 tests,
// planned into 20 shards of 100 suites, each a results.json as `run --shard K/20` writes it.
// Exit: 0 every command exited as expected and wrote its reports; 2 otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, WORK, benchRuns, bigLog, die, measure, median } from './common.mjs';

const CLI = path.join(ROOT, 'dist/runner/cli.js');
const SHARDS = 20;
const SUITES = 2000;
const TESTS = 50;
const RUNS = benchRuns();

if (!fs.existsSync(CLI)) die(`${CLI} missing: run \`npm run build\` first`);
const dir = path.join(WORK, 'shards');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });

const names = Array.from({ length: SUITES }, (_, i) => `suite_${String(i).padStart(4, '0')}`);
const parts = names.map((_, i) => 1 + Math.floor(i / (SUITES / SHARDS)));
const inputs = [];
for (let k = 1; k <= SHARDS; k++) {
  const mine = names.filter((_, i) => parts[i] === k);
  const tests = mine.map((name, i) => ({
    name,
    number: i + 1,
    status: 'pass',
    durationMs: 120,
    line: 1,
    attributes: { module: `${name}_kunit` },
    tests: Array.from({ length: TESTS }, (_, t) => ({
      name: `case_${t}`,
      number: t + 1,
      status: t === 7 && i === 0 ? 'fail' : 'pass',
      durationMs: 2,
      line: 1,
      log: t === 7 && i === 0 ? ['EXPECTATION FAILED at lib/example.c:42', 'Expected 1 == 2'] : [],
    })),
  }));
  const failed = k === 1 ? 1 : 0;
  const doc = {
    schemaVersion: 1,
    verdict: failed ? 'failed' : 'passed',
    counts: {
      total: mine.length * TESTS,
      passed: mine.length * TESTS - failed,
      failed,
      skipped: 0,
      todo: 0,
      xfail: 0,
      timeout: 0,
      errors: 0,
      crashed: 0,
      incomplete: 0,
      notRun: 0,
    },
    metadata: {
      arch: 'x86_64',
      kernelVersion: '6.12.117',
      kernelHash: 'a'.repeat(64),
      lanes: '1',
      endings: 'exited',
      started: '2026-01-01T00:00:00.000Z',
    },
    lines: mine.length * (TESTS + 4),
    shard: {
      index: k,
      total: SHARDS,
      kernelHash: 'a'.repeat(64),
      expected: mine,
      suites: names,
      parts,
      modules: Array.from({ length: SHARDS }, () => []),
    },
    diagnostics: [],
    documents: [{ index: 0, format: 'KTAP', version: 1, plan: mine.length, complete: true, startLine: 1, endLine: 1, tests }],
  };
  const file = path.join(dir, `shard-${k}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  inputs.push(file);
}
const big = bigLog();
const out = (f) => path.join(WORK, f);
const cases = [
  {
    id: 'm',
    what: `merge ${SHARDS} shards, ${SUITES * TESTS} tests: JUnit + TAP + JSON + kunit JSON + KCIDB`,
    exit: 1,
    argv: [
      'merge',
      ...inputs,
      '-q',
      '--junit',
      out('m.xml'),
      '--tap',
      out('m.tap'),
      '--json',
      out('m.json'),
      '--kunit-json',
      out('m.kunit.json'),
      '--kcidb',
      out('m.kcidb.json'),
    ],
    files: ['m.xml', 'm.tap', 'm.json', 'm.kunit.json', 'm.kcidb.json'].map(out),
  },
  {
    id: 'k',
    what: `parse --kcidb, ${big.lines} lines`,
    exit: null,
    argv: ['parse', big.file, '-q', '--kcidb', out('big.kcidb.json')],
    files: [out('big.kcidb.json')],
  },
];
const rows = [];
let ok = true;
for (const c of cases) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    for (const f of c.files) fs.rmSync(f, { force: true });
    const r = await measure([process.execPath, CLI, ...c.argv], { cwd: WORK });
    runs.push(r);
    if (r.error || (c.exit !== null && r.exit !== c.exit) || c.files.some((f) => !fs.existsSync(f))) {
      ok = false;
      console.error(`bench: ${c.id}: ${r.error ?? `exit ${r.exit}`}`);
    }
  }
  rows.push(
    `| ${c.id} | ${c.what} | ${median(runs.map((r) => r.wall_s)).toFixed(2)} | ${Math.max(...runs.map((r) => r.maxrss_mb ?? NaN)).toFixed(0)} | ${runs.map((r) => r.exit).join(',')} |`,
  );
}
console.log(['| case | what | median wall s | peak RSS MB | exits |', '| --- | --- | ---: | ---: | --- |', ...rows].join('\n'));
process.exit(ok ? 0 : 2);
