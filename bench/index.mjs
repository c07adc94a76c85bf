// `npm run bench`: the parse benchmark (bench/parse.mjs), the run benchmark (bench/qemu-run.mjs),
// then the live feed latency benchmark (bench/live-latency.mjs), the agent benchmark (bench/agent.mjs), the
// merge/KCIDB benchmark (bench/merge.mjs), the SSH one (bench/ssh.mjs) and the build one (bench/build.mjs), one after the other, never at the
// same time: all measure time. All always run. Exit: 0 if all exited 0, else the largest of their
// exit codes (1 a goal missed, 2 incomplete; see each script's header), or 2 if one could not start.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['parse.mjs', 'qemu-run.mjs', 'live-latency.mjs', 'agent.mjs', 'merge.mjs', 'ssh.mjs', 'build.mjs'];
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
console.log(`\n${benches.map((b, i) => `bench/${b}: exit ${codes[i]}`).join(', ')}`);
process.exit(codes.some((c) => c !== 0) ? Math.max(...codes) : 0);
