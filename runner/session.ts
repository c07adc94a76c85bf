/**
 * One QEMU boot, wired to the KTAP core: serial bytes → raw log file and
 * KtapStream (with arrival times), a whole-run timeout, a stall timer that
 * watches KTAP progress (not just any output: a hung test still lets kernel
 * noise through), and an optional KVM probe. Always ends with a RunResult
 * reflecting what was seen, whatever happened.
 */
import { closeSync, fstatSync, readSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { BridgeError, describeFsError } from './errors.js';
import { openFresh } from './write-file.js';
import { ranUntilStopped } from './stopped.js';
import { KtapStream, splitLines } from './ktap/index.js';
import type { KtapEvent, RunResult } from './ktap/model.js';
import { StreamJoin } from './agent/join.js';
import type { QemuCommand } from './qemu/argv.js';
import { QemuProcess, type QemuExit } from './qemu/process.js';

export type SessionEnding = 'exited' | 'timeout' | 'stall' | 'interrupted' | 'kvm-dead' | 'qemu-failed' | 'agent-failed' | 'panicked';

/** After the kernel says it panicked, QEMU gets this long to exit by itself (ms). */
const PANIC_GRACE_MS = 3000;
const PANIC_LINE = 'Kernel panic - not syncing';

/** What a session offers the in-guest agent's side (runner/agent/lane.ts). */
export interface AgentFeed {
  /** Lines from the agent, in order, each once. */
  lines(lines: readonly string[]): void;
  /** Documents the parser has started so far (steps are mapped to the documents they printed). */
  documents(): number;
  /** End the session now (the agent failed to start): QEMU is killed. */
  fail(): void;
}

export interface AgentHooks {
  /** Called when the session starts. */
  attach(feed: AgentFeed): void;
  /** Every serial console line (init's and the agent's messages are only there). */
  consoleLine(text: string): void;
  /**
   * A line that counts as progress for the stall timer besides KTAP: the step markers, and while
   * the guest starts the agent (seconds without KTAP), init's and the agent's console lines.
   */
  isProgress(text: string): boolean;
  /** Called when QEMU is gone: true when the agent delivered everything (no serial tail needed). */
  complete(): boolean;
}

export interface SessionOptions {
  /**
   * The QEMU command; its serial console must go to `SERIAL_FD_PATH` (`serialFile` in the argv
   * builder): QEMU's fd 3, the `rawLogPath` file this session creates (a path, it is opened by name).
   */
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
  /**
   * Agent mode: the agent's lines feed the parser from its first line on (the console's before
   * that), and the console's tail joins in if the agent's stream ends early (runner/agent/join.ts).
   */
  agent?: AgentHooks;
  /** Return the whole console (`SessionResult.console`), read from the session's own descriptor. */
  keepConsole?: boolean;
}

export interface SessionResult {
  result: RunResult;
  ending: SessionEnding;
  exit?: QemuExit;
  /** The end of QEMU's stderr. */
  stderr: string;
  /** The guest printed something that looks like kernel output. */
  sawKernel: boolean;
  /** The console said `Kernel panic - not syncing`. */
  panicked: boolean;
  wallMs: number;
  /** The console as QEMU wrote it, with `keepConsole` (not re-read by name: the name may be someone else's by then). */
  console?: Buffer;
}

const KTAP_PROGRESS: ReadonlySet<KtapEvent['type']> = new Set(['document-start', 'plan', 'test-start', 'test-end', 'crash']);
const KERNEL_OUTPUT = /Linux version|\[\s*\d+\.\d+\]|KTAP version|Booting Linux|earlycon|Decompressing Linux/;

export async function runSession(opts: SessionOptions): Promise<SessionResult> {
  const started = Date.now();
  // QEMU writes the console to the file; we follow the file. Created first, so it can be opened now.
  // QEMU writes the console to the file; we follow the file. Created first, exclusively (never
  // through a planted link), and handed to QEMU as its fd 3.
  let raw: number;
  try {
    raw = openFresh(opts.rawLogPath);
  } catch (err) {
    throw new BridgeError('E_LOG_WRITE', `cannot create the raw console log ${opts.rawLogPath}: ${describeFsError(err)}`, { cause: err });
  }
  let ending: SessionEnding = 'exited';
  let sawKernel = false;
  let head = '';
  let stopping: ((why: SessionEnding) => void) | undefined;
  const stopped = new Promise<SessionEnding>((resolve) => {
    stopping = resolve;
  });
  let stoppedAt = 0;
  let lastLineAt = Date.now();
  const stop = (why: SessionEnding): void => {
    stoppedAt ||= Date.now();
    stopping?.(why);
  };

  let stallTimer: NodeJS.Timeout | undefined;
  let ended = false;
  const armStall = (): void => {
    if (!opts.stallTimeoutMs || ended) return;
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stop('stall'), opts.stallTimeoutMs);
  };
  let documents = 0;
  const agent = opts.agent;
  // panic=-1 reboots at once (and -no-reboot ends QEMU), but a kernel can override it (a panic
  // timeout of its own, an arch whose reset hangs): nothing useful comes after a panic, so QEMU
  // is stopped if it has not gone within the grace.
  let panicTimer: NodeJS.Timeout | undefined;
  const watchPanic = (text: string): void => {
    if (panicTimer === undefined && text.includes(PANIC_LINE)) panicTimer = setTimeout(() => stop('panicked'), PANIC_GRACE_MS);
  };
  // With the agent, the console's lines go to the join, which feeds the stream the lines it picks.
  const join = agent
    ? new StreamJoin((text, info) => {
        if (agent.isProgress(text)) armStall();
        stream.line(text, info);
      })
    : undefined;
  const stream = new KtapStream({
    clock: Date.now,
    onEvent: (e) => {
      if (!stoppedAt) lastLineAt = Date.now();
      if (e.type === 'document-start') documents++;
      if (KTAP_PROGRESS.has(e.type) || (e.type === 'log' && e.diagnostic)) armStall();
      opts.onEvent?.(e);
    },
    onLine: (text, info) => {
      watchPanic(text);
      if (!join) return true;
      agent!.consoleLine(text);
      if (agent!.isProgress(text)) armStall();
      join.serial(text, info);
      return false;
    },
  });
  agent?.attach({
    lines: (lines) => {
      for (const l of lines) join!.agent(l);
    },
    documents: () => documents,
    fail: () => stop('agent-failed'),
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
    proc = await QemuProcess.start(opts.command, onConsole, onStderr, opts.debianPackage, raw);
  } catch (err) {
    clearInterval(poll);
    watcher?.close();
    closeSync(raw);
    throw err;
  }
  armStall();
  const timers: NodeJS.Timeout[] = [];
  if (opts.timeoutMs) timers.push(setTimeout(() => stop('timeout'), opts.timeoutMs));
  if (opts.kvmProbeMs)
    timers.push(
      setTimeout(() => {
        if (!sawKernel) stop('kvm-dead');
      }, opts.kvmProbeMs),
    );
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
  ended = true;
  clearTimeout(stallTimer);
  clearTimeout(panicTimer);
  opts.signal?.removeEventListener('abort', onAbort);

  if (ending === 'exited' && !sawKernel && exit.code !== 0) ending = opts.kvmProbeMs ? 'kvm-dead' : 'qemu-failed';
  stream.end();
  if (join && join.current === 'agent' && !agent!.complete()) {
    // The agent's stream ended early (a panic, a hang, a killed guest): what the console has
    // after the agent's last line joins the same stream. The console log holds it all.
    join.switchTo('serial');
    // From the descriptor, not the name: what QEMU wrote, whatever is at that name now.
    splitLines(readAll(raw), (text, info) => join.serial(text, info));
  }
  const secs = (ms: number | undefined): string => `${Math.round((ms ?? 0) / 100) / 10} s`;
  let result: RunResult;
  const timedOut = (message: string): RunResult => {
    const r = stream.finish({ status: 'timeout', message });
    ranUntilStopped(r, message, stoppedAt - lastLineAt);
    return r;
  };
  switch (ending) {
    case 'stall':
      result = timedOut(`no KTAP progress for ${secs(opts.stallTimeoutMs)} (--stall-timeout): the kernel hung`);
      break;
    case 'timeout':
      result = timedOut(`the run took longer than ${secs(opts.timeoutMs)} (--timeout)`);
      break;
    case 'interrupted':
      result = stream.finish({ status: 'incomplete', message: 'interrupted' });
      break;
    default:
      result = stream.finish();
  }
  // QEMU's own messages (`terminating on signal 15`, errors) go after the console.
  try {
    if (stderr.length > 0) writeSync(raw, Buffer.concat(stderr), 0, undefined, fstatSync(raw).size);
  } catch {
    // a full disk: the log keeps what QEMU wrote; the reports' writes will say the disk is full
  }
  const kept = opts.keepConsole ? readAll(raw) : undefined;
  closeSync(raw);
  return {
    ...(kept ? { console: kept } : {}),
    result,
    ending,
    exit,
    stderr: proc.stderrTail,
    sawKernel,
    panicked: panicTimer !== undefined,
    wallMs: Date.now() - started,
  };
}

/** The whole file behind `fd` (positional reads: the descriptor's offset is not used). */
function readAll(fd: number): Buffer {
  const all = Buffer.alloc(fstatSync(fd).size);
  let got = 0;
  while (got < all.length) {
    const n = readSync(fd, all, got, all.length - got, got);
    if (n <= 0) break;
    got += n;
  }
  return all.subarray(0, got);
}
