/**
 * One `make` child: spawned without a shell in its own process group, its
 * stdout and stderr split into lines (handed over and appended to the build
 * log), and stopped with its whole group — every compiler it started — when
 * the signal aborts, or when this process exits.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { BridgeError } from '../errors.js';
import type { MakeCommand } from './make-command.js';

export interface MakeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Every line make printed (stdout and stderr, in arrival order). */
  lines: string[];
}

export interface MakeOptions {
  /** Each line, as it arrives. */
  onLine?: (line: string) => void;
  /** The build log's descriptor: every line is appended to it. */
  logFd?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const groups = new Set<number>();

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is gone
  }
}

// No make (nor a compiler of its) outlives the runner's normal exit, a signal included.
process.on('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
});

/** Run make to its end; rejects only when make cannot be started (E_TOOLCHAIN_MISSING). */
export function runMake(cmd: MakeCommand, o: MakeOptions = {}): Promise<MakeExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.binary, cmd.args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...o.env, LC_ALL: 'C' },
    });
    const lines: string[] = [];
    const pending = { stdout: '', stderr: '' };
    const take = (which: 'stdout' | 'stderr', chunk: Buffer | undefined): void => {
      const text = pending[which] + (chunk ? chunk.toString('utf8') : '');
      const parts = text.split('\n');
      pending[which] = chunk ? parts.pop()! : '';
      for (const l of parts) {
        if (!chunk && l === '') continue;
        lines.push(l);
        if (o.logFd !== undefined) writeSync(o.logFd, `${l}\n`);
        o.onLine?.(l);
      }
    };
    child.stdout.on('data', (d: Buffer) => take('stdout', d));
    child.stderr.on('data', (d: Buffer) => take('stderr', d));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 2000);
      killTimer.unref();
    };
    child.on('spawn', () => {
      groups.add(child.pid!);
      if (o.signal?.aborted) onAbort();
      else o.signal?.addEventListener('abort', onAbort, { once: true });
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        new BridgeError(
          'E_TOOLCHAIN_MISSING',
          err.code === 'ENOENT' ? 'make is not installed (apt-get install make)' : `cannot run make: ${err.message}`,
          { cause: err },
        ),
      );
    });
    child.on('close', (code, signal) => {
      take('stdout', undefined);
      take('stderr', undefined);
      o.signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) {
        // Whatever of the group is left (a compiler make did not wait for) goes with it.
        killGroup(child.pid, 'SIGKILL');
        groups.delete(child.pid);
      }
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, lines });
    });
  });
}
