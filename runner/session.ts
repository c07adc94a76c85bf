/**
 * One QEMU boot, wired to the KTAP core: serial bytes → raw log file and
 * KtapStream (with arrival times), a whole-run timeout, a stall timer that
 * watches KTAP progress (not just any output: a hung test still lets kernel
 * noise through), and an optional KVM probe. Always ends with a RunResult
 * reflecting what was seen, whatever happened.
 */
import { appendFileSync, closeSync, openSync, readSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { KtapStream } from './ktap/index.js';
import type { KtapEvent, RunResult } from './ktap/model.js';
import type { QemuCommand } from './qemu/argv.js';
import { QemuProcess, type QemuExit } from './qemu/process.js';

export type SessionEnding = 'exited' | 'timeout' | 'stall' | 'interrupted' | 'kvm-dead' | 'qemu-failed';

export interface SessionOptions {
  /** The QEMU command; its serial console must go to `rawLogPath` (`serialFile` in the argv builder). */
  command: QemuCommand;
  /** Debian package for the "install it" message. */
  debianPackage: string;
  /** The raw console: QEMU writes the serial output there itself; its own stderr is appended at the end. */
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
  // QEMU writes the console to the file; we follow the file. Created first, so it can be opened now.
  writeFileSync(opts.rawLogPath, '');
  const raw = openSync(opts.rawLogPath, 'r');
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

  const onConsole = (chunk: Buffer): void => {
    opts.onRaw?.(chunk);
    if (!sawKernel) {
      head = (head + chunk.toString('latin1')).slice(-512);
      sawKernel = KERNEL_OUTPUT.test(head);
    }
    stream.write(chunk);
  };
  const stderr: Buffer[] = [];
  const onStderr = (chunk: Buffer): void => {
    stderr.push(chunk);
    opts.onRaw?.(chunk);
  };
  // Follow the console file: on every change (inotify), and on a timer in case a change is missed.
  const buf = Buffer.alloc(1 << 16);
  let offset = 0;
  const drain = (): void => {
    for (;;) {
      const n = readSync(raw, buf, 0, buf.length, offset);
      if (n <= 0) return;
      offset += n;
      onConsole(Buffer.from(buf.subarray(0, n)));
    }
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(opts.rawLogPath, () => drain());
  } catch {
    // no inotify: the timer alone follows the file
  }
  const poll = setInterval(drain, 50);

  let proc: QemuProcess;
  try {
    proc = await QemuProcess.start(opts.command, onConsole, onStderr, opts.debianPackage);
  } catch (err) {
    clearInterval(poll);
    watcher?.close();
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
  clearInterval(poll);
  watcher?.close();
  drain();
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
  // QEMU's own messages (`terminating on signal 15`, errors) go after the console.
  if (stderr.length > 0) appendFileSync(opts.rawLogPath, Buffer.concat(stderr));
  return { result, ending, exit, stderr: proc.stderrTail, sawKernel, wallMs: Date.now() - started };
}
