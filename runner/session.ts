/**
 * One QEMU boot, wired to the KTAP core: serial bytes → raw log file and
 * KtapStream (with arrival times), a whole-run timeout, a stall timer that
 * watches KTAP progress (not just any output: a hung test still lets kernel
 * noise through), and an optional KVM probe. Always ends with a RunResult
 * reflecting what was seen, whatever happened.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { KtapStream } from './ktap/index.js';
import type { KtapEvent, RunResult } from './ktap/model.js';
import type { QemuCommand } from './qemu/argv.js';
import { QemuProcess, type QemuExit } from './qemu/process.js';

export type SessionEnding = 'exited' | 'timeout' | 'stall' | 'interrupted' | 'kvm-dead' | 'qemu-failed';

export interface SessionOptions {
  command: QemuCommand;
  /** Debian package for the "install it" message. */
  debianPackage: string;
  /** Where the raw console (QEMU's stdout and stderr) is written. */
  rawLogPath: string;
  /** Kill QEMU after this long in all (0: never). */
  timeoutMs?: number;
  /** Kill QEMU after this long without KTAP progress (0: never). */
  stallTimeoutMs?: number;
  /** With KVM: give up (ending `kvm-dead`) if the kernel prints nothing within this time. */
  kvmProbeMs?: number;
  onEvent?: (event: KtapEvent) => void;
  /** Every raw chunk of console output (for --raw). */
  onRaw?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export interface SessionResult {
  result: RunResult;
  ending: SessionEnding;
  exit?: QemuExit;
  /** The end of QEMU's stderr. */
  stderr: string;
  /** The guest printed something that looks like kernel output. */
  sawKernel: boolean;
  wallMs: number;
}

const KTAP_PROGRESS: ReadonlySet<KtapEvent['type']> = new Set(['document-start', 'plan', 'test-start', 'test-end', 'crash']);
const KERNEL_OUTPUT = /Linux version|\[\s*\d+\.\d+\]|KTAP version|Booting Linux|earlycon|Decompressing Linux/;

export async function runSession(opts: SessionOptions): Promise<SessionResult> {
  const started = Date.now();
  const raw = openSync(opts.rawLogPath, 'w');
  let ending: SessionEnding = 'exited';
  let sawKernel = false;
  let head = '';
  let stopping: ((why: SessionEnding) => void) | undefined;
  const stopped = new Promise<SessionEnding>((resolve) => { stopping = resolve; });
  const stop = (why: SessionEnding): void => stopping?.(why);

  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = (): void => {
    if (!opts.stallTimeoutMs) return;
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stop('stall'), opts.stallTimeoutMs);
  };
  const stream = new KtapStream({
    clock: () => Date.now(),
    onEvent: (e) => {
      if (KTAP_PROGRESS.has(e.type) || (e.type === 'log' && e.diagnostic)) armStall();
      opts.onEvent?.(e);
    },
  });

  const onStdout = (chunk: Buffer): void => {
    writeSync(raw, chunk);
    opts.onRaw?.(chunk);
    if (!sawKernel) {
      head = (head + chunk.toString('latin1')).slice(-512);
      sawKernel = KERNEL_OUTPUT.test(head);
    }
    stream.write(chunk);
  };
  const onStderr = (chunk: Buffer): void => {
    writeSync(raw, chunk);
    opts.onRaw?.(chunk);
  };

  let proc: QemuProcess;
  try {
    proc = await QemuProcess.start(opts.command, onStdout, onStderr, opts.debianPackage);
  } catch (err) {
    closeSync(raw);
    throw err;
  }
  armStall();
  const timers: NodeJS.Timeout[] = [];
  if (opts.timeoutMs) timers.push(setTimeout(() => stop('timeout'), opts.timeoutMs));
  if (opts.kvmProbeMs) timers.push(setTimeout(() => { if (!sawKernel) stop('kvm-dead'); }, opts.kvmProbeMs));
  const onAbort = (): void => stop('interrupted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop('interrupted');

  const first = await Promise.race([proc.exited.then(() => 'exited' as const), stopped]);
  ending = first;
  if (first !== 'exited') await proc.kill();
  const exit = await proc.exited;
  for (const t of timers) clearTimeout(t);
  clearTimeout(stallTimer);
  opts.signal?.removeEventListener('abort', onAbort);

  if (ending === 'exited' && !sawKernel && exit.code !== 0) ending = opts.kvmProbeMs ? 'kvm-dead' : 'qemu-failed';
  const secs = (ms: number | undefined): string => `${Math.round((ms ?? 0) / 100) / 10} s`;
  let result: RunResult;
  switch (ending) {
    case 'stall':
      result = stream.finish({ status: 'timeout', message: `no KTAP progress for ${secs(opts.stallTimeoutMs)} (--stall-timeout): the kernel hung` });
      break;
    case 'timeout':
      result = stream.finish({ status: 'timeout', message: `the run took longer than ${secs(opts.timeoutMs)} (--timeout)` });
      break;
    case 'interrupted':
      result = stream.finish({ status: 'incomplete', message: 'interrupted' });
      break;
    default:
      result = stream.finish();
  }
  closeSync(raw);
  return { result, ending, exit, stderr: proc.stderrTail, sawKernel, wallMs: Date.now() - started };
}
