// `npm run bench`: the parse benchmark (bench/parse.mjs), the run benchmark (bench/qemu-run.mjs),
// then the live feed latency benchmark (bench/live-latency.mjs), the agent benchmark (bench/agent.mjs), the
// merge/KCIDB benchmark (bench/merge.mjs), the SSH one (bench/ssh.mjs) and the build one (bench/build.mjs),
// one after the other, never at the same time: all measure time. All always run. Exit: 0 if all exited 0, else the largest of their
// exit codes (1 a goal missed, 2 incomplete; see each script's header), or 2 if one could not start.
// Then it writes the speed goals' table (the `rows` every script saves in its *-latest.json) into
// docs/benchmarks.md between the markers of bench/table.mjs. BENCH_ONLY=parse,agent runs only those scripts
// (and still writes their rows).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ROOT, WORK, benchRuns } from './common.mjs';
import { collectRows, renderTable, replaceSection } from './table.mjs';

const all = ['parse.mjs', 'qemu-run.mjs', 'live-latency.mjs', 'agent.mjs', 'merge.mjs', 'ssh.mjs', 'build.mjs'];
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const unknown = only.filter((o) => !all.includes(`${o}.mjs`));
if (unknown.length) {
  console.error(
    `bench: BENCH_ONLY names no bench script: ${unknown.join(', ')} (have: ${all.map((b) => b.replace('.mjs', '')).join(', ')})`,
  );
  process.exit(2);
}
const benches = only.length ? all.filter((b) => only.includes(b.replace('.mjs', ''))) : all;
const started = Date.now();
const loadBefore = os.loadavg()[0].toFixed(2);
const codes = [];
for (const name of benches) {
  const file = fileURLToPath(new URL(name, import.meta.url));
  console.log(`\n# bench/${name}\n`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') process.exit(r.signal === 'SIGINT' ? 130 : 143);
  const code = r.error || r.status === null ? 2 : r.status;
  if (r.error) console.error(`bench: cannot run bench/${name}: ${r.error.message}`);
  if (code === 130 || code === 143) process.exit(code);
  codes.push(code);
}
writeTable();
console.log(`\n${benches.map((b, i) => `bench/${b}: exit ${codes[i]}`).join(', ')}`);
process.exit(codes.some((c) => c !== 0) ? Math.max(...codes) : 0);

function writeTable() {
  const rows = collectRows(WORK, started, ['parse', 'run', 'agent', 'build', 'live-latency', 'merge', 'ssh']);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {}
  const cpus = os.cpus();
  const section = renderTable(rows, {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    commit,
    machine: `${cpus.length}× ${cpus[0]?.model.trim() ?? 'CPU'}, Node ${process.versions.node}`,
    runs: benchRuns(),
    loadBefore,
    loadAfter: os.loadavg()[0].toFixed(2),
  });
  const page = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
  fs.writeFileSync(page, replaceSection(fs.readFileSync(page, 'utf8'), section));
  console.log(`\nbench: ${rows.length} goal rows written to docs/benchmarks.md`);
}
