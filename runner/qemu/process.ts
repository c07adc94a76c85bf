/**
 * A QEMU child process: spawned without a shell, its serial output (stdout)
 * and its own messages (stderr) delivered as bytes, and killed on every exit
 * path. Every live child is registered so signal handlers and process exit
 * can stop them all; and it runs under `setpriv --pdeathsig KILL`, so the
 * kernel kills it when the runner dies however it dies (`kill -9` included):
 * no orphans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BridgeError } from '../errors.js';
import type { QemuCommand } from './argv.js';

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();

/** SIGKILL every QEMU still running (synchronous: safe in an 'exit' handler). */
export function killAllQemu(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** How many QEMU children are alive (tests use it to prove there are no orphans). */
export function liveQemuCount(): number {
  return live.size;
}

process.on('exit', killAllQemu);

/**
 * The serial console file as QEMU sees it (`-serial file:` in the argv builder): its fd 3, the
 * console log the session created exclusively, so QEMU never opens a name someone else could
 * have swapped for a symlink.
 */
export const SERIAL_FD_PATH = '/dev/fd/3';

/** An executable file named `name` (a path, or looked up on PATH), or why there is none. */
export function findExecutable(name: string): { path: string } | { code: 'ENOENT' | 'EACCES' } {
  const dirs = name.includes('/') ? [''] : (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  let denied = false;
  for (const dir of dirs) {
    const path = dir ? join(dir, name) : name;
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(path, constants.X_OK);
      return { path };
    } catch {
      denied = true;
    }
  }
  return { code: denied ? 'EACCES' : 'ENOENT' };
}

export interface OrphanGuard {
  /** The program QEMU is started through, and its arguments before QEMU's path (none without setpriv). */
  wrapper?: { file: string; args: string[] };
  /** One line for the user when there is no guard. */
  note?: string;
}

let guard: OrphanGuard | undefined;

/**
 * `setpriv --pdeathsig KILL --` (util-linux): the parent-death signal is set in the child, then
 * QEMU is exec'd in its place (same pid), so QEMU gets SIGKILL when the runner dies. The signal
 * follows the thread that spawned it: Node spawns from its main thread, which lives as long as
 * the process. Without setpriv (not Linux, or util-linux missing) QEMU is still killed on every
 * exit path but a SIGKILL of the runner, and the note says so.
 */
export function orphanGuard(): OrphanGuard {
  if (guard) return guard;
  const setpriv = process.platform === 'linux' ? findExecutable('setpriv') : undefined;
  guard =
    setpriv && 'path' in setpriv
      ? { wrapper: { file: setpriv.path, args: ['--pdeathsig', 'KILL', '--'] } }
      : { note: 'setpriv (util-linux) not found: a QEMU would outlive this runner if it were killed with SIGKILL' };
  return guard;
}

export class QemuProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<QemuExit>;
  /** The last bytes QEMU wrote to stderr (for error messages). */
  stderrTail = '';
  private killing: Promise<void> | undefined;

  private constructor(child: ChildProcess, exited: Promise<QemuExit>) {
    this.child = child;
    this.exited = exited;
  }

  /**
   * Start QEMU. Resolves once it is running; rejects with a BridgeError
   * (exit 4) when the binary cannot be started. `serialFd` becomes QEMU's fd 3
   * ({@link SERIAL_FD_PATH}).
   */
  static start(
    cmd: QemuCommand,
    onStdout: (chunk: Buffer) => void,
    onStderr: (chunk: Buffer) => void,
    debianPackage: string,
    serialFd?: number,
  ): Promise<QemuProcess> {
    return new Promise((resolve, reject) => {
      // Found here, not by exec: under setpriv a missing QEMU would be setpriv's exit status 127.
      const found = findExecutable(cmd.binary);
      if ('code' in found) {
        reject(startError(cmd.binary, found.code, debianPackage));
        return;
      }
      const { wrapper } = orphanGuard();
      const stdio = ['ignore', 'pipe', 'pipe', ...(serialFd === undefined ? [] : [serialFd])] as const;
      const child = wrapper
        ? spawn(wrapper.file, [...wrapper.args, found.path, ...cmd.args], { stdio: [...stdio] })
        : spawn(found.path, cmd.args, { stdio: [...stdio] });
      live.add(child);
      const exited = new Promise<QemuExit>((res) => {
        child.once('close', (code, signal) => {
          live.delete(child);
          res({ code, signal });
        });
      });
      const proc = new QemuProcess(child, exited);
      child.stdout!.on('data', onStdout);
      child.stderr!.on('data', (chunk: Buffer) => {
        proc.stderrTail = (proc.stderrTail + chunk.toString('utf8')).slice(-4096);
        onStderr(chunk);
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        live.delete(child);
        reject(startError(cmd.binary, err.code, debianPackage, err.message));
      });
      child.once('spawn', () => resolve(proc));
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  kill(graceMs = 2000): Promise<void> {
    this.killing ??= (async () => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return;
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.killing;
  }
}

function startError(binary: string, code: string | undefined, debianPackage: string, message = code ?? ''): BridgeError {
  if (code === 'ENOENT') {
    return new BridgeError('E_QEMU_MISSING', `${binary} not found: install it (apt-get install ${debianPackage}) or pass --qemu PATH`);
  }
  if (code === 'EACCES') return new BridgeError('E_QEMU_EXEC', `${binary} cannot be executed: permission denied`);
  return new BridgeError('E_QEMU_EXEC', `cannot start ${binary}: ${message}`);
}
