// SSH benchmark (part of `npm run bench`): what `run --target ssh://…` costs on a live kernel, and
// a `--filter` re-run over SSH against the in-guest agent's, on x86_64-rust-kunit-v3 (TCG).
//
// A "board" is booted once: the v3 kernel in QEMU running the host's sshd (the fixture's
// sshd-init-example.sh), port 22 forwarded to loopback. Then, each BENCH_RUNS times (default 3):
//   ssh                    kunit-bridge run --target (the boot's 195 results from /dev/kmsg)
//   ssh --filter example   the same plus one debugfs re-run of `example` (a second document)
//   agent --filter example            kunit-bridge run --kernel --agent --filter example (a boot of its own)
//   agent --filter example --repeat 2 the same plus one debugfs re-run of `example` through the agent
// From results.json: connect time, connect → first result, the re-run step's round trip.
// Prints a markdown table (median, min–max); writes $TMPDIR/kunit-bridge-bench/ssh-latest.json.
// Exit: 0 complete; 2 incomplete (a tool missing, a command failed, counts that do not match).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, WORK, benchRuns, capture, die, killMeasured, measure, median } from './common.mjs';

const KDIR = path.resolve(ROOT, '..', 'shared', 'fixtures', 'kernels', 'x86_64-rust-kunit-v3');
const CLI = path.join(ROOT, 'dist/runner/cli.js');
const SCRATCH = path.join(WORK, `ssh-${process.pid}`);
const RUNS = benchRuns();

if (!fs.existsSync(path.join(KDIR, 'bzImage'))) die(`${KDIR}/bzImage is missing`);
if (!fs.existsSync(CLI)) die(`${CLI} missing: run \`npm run build\` first`);
if (!capture('qemu-system-x86_64', ['--version'])) die('qemu-system-x86_64 not found: apt-get install -y qemu-system-x86');
if (!fs.existsSync('/usr/sbin/sshd')) die('/usr/sbin/sshd not found: apt-get install -y openssh-server');
fs.mkdirSync(SCRATCH, { recursive: true });

// ---- the board (as test/helpers/ssh-board.ts; see the fixture's README) ----
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const D = fs.mkdtempSync('/tmp/kunit-bridge-bench-board-');
fs.chmodSync(D, 0o755);
for (const k of ['ssh_host_ed25519_key', 'id_ed25519']) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(D, k)]);
fs.copyFileSync(path.join(D, 'id_ed25519.pub'), path.join(D, 'authorized_keys'));
fs.writeFileSync(
  path.join(D, 'known_hosts'),
  `[127.0.0.1]:${port} ${fs.readFileSync(path.join(D, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
);
fs.writeFileSync(
  path.join(D, 'sshd_config'),
  `ListenAddress 0.0.0.0\nHostKey ${D}/ssh_host_ed25519_key\nAuthorizedKeysFile ${D}/authorized_keys\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile none\nPrintMotd no\nPrintLastLog no\nSubsystem sftp internal-sftp\n`,
);
const qemu = spawn(
  'qemu-system-x86_64',
  [
    '-nodefaults',
    '-nographic',
    '-no-reboot',
    '-m',
    '1024',
    '-bios',
    'qboot.rom',
    '-kernel',
    path.join(KDIR, 'bzImage'),
    '-serial',
    `file:${path.join(SCRATCH, 'board-console.log')}`,
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-netdev',
    `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:22`,
    '-device',
    'virtio-net-pci,netdev=n0',
    '-append',
    `console=ttyS0 panic=-1 root=hostroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L ro ip=dhcp init=${KDIR}/sshd-init-example.sh -- ${D}`,
  ],
  { stdio: 'ignore' },
);
const stopBoard = () => {
  try {
    qemu.kill('SIGKILL');
  } catch {
    /* gone */
  }
};
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    killMeasured();
    stopBoard();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
const banner = () =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2000);
    s.on('data', (d) => {
      clearTimeout(t);
      s.destroy();
      resolve(String(d).startsWith('SSH-'));
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
const bootStart = Date.now();
while (!(await banner())) {
  if (Date.now() - bootStart > 120_000 || qemu.exitCode !== null) {
    stopBoard();
    die("the board's sshd never answered");
  }
  await new Promise((r) => setTimeout(r, 300));
}
const sshdUp = (Date.now() - bootStart) / 1000;

// ---- the commands ----
const target = [
  'run',
  '--target',
  `ssh://root@127.0.0.1:${port}`,
  '--identity',
  path.join(D, 'id_ed25519'),
  '--known-hosts',
  path.join(D, 'known_hosts'),
  '-q',
];
const agent = ['run', '--kernel', path.join(KDIR, 'bzImage'), '--accel', 'tcg', '--agent', '-q'];
const commands = [
  { name: 'ssh', argv: target, total: 195 },
  { name: 'ssh --filter example', argv: [...target, '--filter', 'example'], total: 207 },
  { name: 'agent --filter example', argv: [...agent, '--filter', 'example'], total: 12 },
  { name: 'agent --filter example --repeat 2', argv: [...agent, '--filter', 'example', '--repeat', '2'], total: 12 },
];
const rows = new Map(commands.map((c) => [c.name, { wall: [], rss: [], connect: [], first: [], step: [] }]));
let incomplete = false;
let seq = 0;
for (let run = 0; run < RUNS; run++) {
  for (let i = 0; i < commands.length; i++) {
    const c = commands[(i + run) % commands.length];
    const out = path.join(SCRATCH, `${String(++seq).padStart(3, '0')}`);
    const m = await measure([process.execPath, CLI, ...c.argv, '-o', out], { cwd: SCRATCH, env: { SSH_AUTH_SOCK: '' } });
    if (m.error || m.exit > 1) {
      console.error(`bench: ${c.name}: ${m.error ?? `exit ${m.exit}`}`);
      incomplete = true;
      continue;
    }
    const j = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    if (j.counts.total !== c.total) {
      console.error(`bench: ${c.name}: ${j.counts.total} tests, not ${c.total}`);
      incomplete = true;
    }
    const r = rows.get(c.name);
    r.wall.push(m.wall_s);
    r.rss.push(m.maxrss_mb);
    if (j.metadata.connectMs) r.connect.push(Number(j.metadata.connectMs) / 1000);
    if (j.metadata.firstResultMs) r.first.push(Number(j.metadata.firstResultMs) / 1000);
    // The re-run's host round trip over SSH (issue → end marker read back).
    const step = /(?:^| )1:(\d+)/.exec(j.metadata.stepHostMs ?? '');
    if (c.name === 'ssh --filter example' && step) r.step.push(Number(step[1]) / 1000);
  }
}
stopBoard();

const fmt = (xs, d = 2) => (xs.length ? `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})` : '—');
console.log(`x86_64-rust-kunit-v3 under TCG; the board's sshd answered ${sshdUp.toFixed(1)} s after QEMU started; ${RUNS} runs each\n`);
console.log('| command | wall s | peak RSS MB | connect s | connect → first result s | re-run step (host) s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const c of commands) {
  const r = rows.get(c.name);
  console.log(`| ${c.name} | ${fmt(r.wall)} | ${fmt(r.rss, 0)} | ${fmt(r.connect)} | ${fmt(r.first)} | ${fmt(r.step)} |`);
}
const med = (n) => median(rows.get(n).wall);
const sshRerun = med('ssh --filter example') - med('ssh');
const agentRerun = med('agent --filter example --repeat 2') - med('agent --filter example');
console.log(
  `\nA --filter re-run of example: +${sshRerun.toFixed(2)} s over SSH (wall, median), +${agentRerun.toFixed(2)} s through the agent (one more step in a boot of its own).`,
);
fs.writeFileSync(
  path.join(WORK, 'ssh-latest.json'),
  JSON.stringify({ sshdUp, runs: RUNS, rows: Object.fromEntries(rows), sshRerun, agentRerun }, null, 2),
);
process.exit(incomplete ? 2 : 0);
