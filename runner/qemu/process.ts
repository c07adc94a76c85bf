/**
 * A QEMU child process: spawned without a shell, its serial output (stdout)
 * and its own messages (stderr) delivered as bytes, and killed on every exit
 * path. Every live child is registered so signal handlers and process exit
 * can stop them all: no orphans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BridgeError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
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
   * (exit 4) when the binary cannot be started.
   */
  static start(cmd: QemuCommand, onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void,
    debianPackage: string): Promise<QemuProcess> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd.binary, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
        if (err.code === 'ENOENT') {
          reject(new BridgeError('E_QEMU_MISSING', 'qemu', ExitCode.INFRA,
            `${cmd.binary} not found: install it (apt-get install ${debianPackage}) or pass --qemu PATH`));
        } else if (err.code === 'EACCES') {
          reject(new BridgeError('E_QEMU_EXEC', 'qemu', ExitCode.INFRA, `${cmd.binary} cannot be executed: permission denied`));
        } else {
          reject(new BridgeError('E_QEMU_EXEC', 'qemu', ExitCode.INFRA, `cannot start ${cmd.binary}: ${err.message}`));
        }
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
