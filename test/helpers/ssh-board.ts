/**
 * A "board" for `run --target`: the x86_64-rust-kunit-v3 kernel in QEMU
 * (TCG) running the host's own sshd (the fixture's sshd-init-example.sh),
 * its port 22 forwarded to a free loopback port. Keys are made per board,
 * as the fixture's README does: the host key and authorized_keys handed in
 * through a directory under /tmp that the guest sees over 9p. `log_buf_len=4M`:
 * the tests run many times on one boot, and the default 128 KiB ring would
 * overwrite the boot's KTAP (a limit of the target, docs/targets.md).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { kernelFixture } from './corpus.js';

export const V3 = (file: string): string => kernelFixture('x86_64-rust-kunit-v3', file);

export interface Board {
  port: number;
  dir: string;
  /** The client's private key (authorized in the guest). */
  identity: string;
  /** A known_hosts with the board's host key as [127.0.0.1]:PORT. */
  knownHosts: string;
  /** The host key's `SHA256:` fingerprint. */
  fingerprint: string;
  qemu: ChildProcess;
  console: () => string;
  exited: Promise<number | null>;
  /** `ssh … root@127.0.0.1 CMD` with the board's options (for test set-up only). */
  ssh(cmd: string): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(path: string, comment: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** Keys and configs for one board, in a new /tmp directory the guest can read. */
export function boardDir(port: number): Pick<Board, 'dir' | 'identity' | 'knownHosts' | 'fingerprint'> {
  const dir = mkdtempSync('/tmp/kunit-bridge-board-');
  chmodSync(dir, 0o755);
  keygen(join(dir, 'ssh_host_ed25519_key'), 'board host key');
  keygen(join(dir, 'id_ed25519'), 'board client key');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')));
  const pub = readFileSync(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${pub}\n`);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'ListenAddress 0.0.0.0',
      `HostKey ${dir}/ssh_host_ed25519_key`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PidFile none',
      'PrintMotd no',
      'PrintLastLog no',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const fp = spawnSync('ssh-keygen', ['-lf', join(dir, 'ssh_host_ed25519_key.pub')], { encoding: 'utf8' }).stdout.split(' ')[1]!;
  return { dir, identity: join(dir, 'id_ed25519'), knownHosts: join(dir, 'known_hosts'), fingerprint: fp };
}

/** Resolves once sshd's banner comes over the forwarded port (polls; QEMU accepts before the guest listens). */
async function waitForSshd(port: number, qemuGone: () => boolean, limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (qemuGone()) throw new Error('QEMU exited before sshd answered');
    const ok = await new Promise<boolean>((resolve) => {
      const sock = tcpConnect(port, '127.0.0.1');
      const t = setTimeout(() => {
        sock.destroy();
        resolve(false);
      }, 2000);
      sock.on('data', (d) => {
        clearTimeout(t);
        sock.destroy();
        resolve(d.toString('latin1').startsWith('SSH-'));
      });
      sock.on('error', () => {
        clearTimeout(t);
        resolve(false);
      });
      sock.on('close', () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`sshd did not answer on port ${port} within ${limitMs / 1000} s`);
}

export async function bootBoard(opts: { port?: number; dir?: ReturnType<typeof boardDir> } = {}): Promise<Board> {
  const port = opts.port ?? (await freePort());
  const keys = opts.dir ?? boardDir(port);
  let consoleText = '';
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
      V3('bzImage'),
      '-serial',
      'stdio',
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
      `console=ttyS0 panic=-1 log_buf_len=4M root=hostroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L ro ip=dhcp init=${V3('sshd-init-example.sh')} -- ${keys.dir}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  qemu.stdout!.on('data', (d: Buffer) => {
    consoleText += d.toString('latin1');
  });
  qemu.stderr!.on('data', (d: Buffer) => {
    consoleText += d.toString('latin1');
  });
  let gone = false;
  const exited = new Promise<number | null>((r) =>
    qemu.on('exit', (code) => {
      gone = true;
      r(code);
    }),
  );
  try {
    await waitForSshd(port, () => gone, 90_000);
  } catch (err) {
    qemu.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${consoleText.slice(-2000)}`);
  }
  const sshArgs = [
    '-F',
    '/dev/null',
    '-o',
    `UserKnownHostsFile=${keys.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    keys.identity,
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(port),
    'root@127.0.0.1',
  ];
  return {
    ...keys,
    port,
    qemu,
    exited,
    console: () => consoleText,
    ssh: (cmd) => {
      const r = spawnSync('ssh', [...sshArgs, cmd], { encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    stop: async () => {
      if (gone) return;
      qemu.kill('SIGCONT');
      qemu.kill('SIGKILL');
      await exited;
    },
  };
}
