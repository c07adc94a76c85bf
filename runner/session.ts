/**
 * One QEMU boot, wired to the KTAP core: serial bytes → raw log file and
 * KtapStream (with arrival times), a whole-run timeout, a stall timer that
 * watches KTAP progress (not just any output: a hung test still lets kernel
 * noise through), and an optional KVM probe. Always ends with a RunResult
 * reflecting what was seen, whatever happened. The parts: the log followed by
 * descriptor (session/console-follower.ts), the timers (session/watchdog.ts),
 * the ending (session/ending.ts), the result (session/finish.ts).
 */
import { StreamJoin } from './agent/join.js';
import { KtapStream, splitLines } from './ktap/index.js';
import type { KtapEvent, RunResult } from './ktap/model.js';
import type { QemuCommand } from './qemu/argv.js';
import { type QemuExit, QemuProcess } from './qemu/process.js';
import { ConsoleFollower } from './session/console-follower.js';
import { decideEnding, type SessionEnding, StopRequest } from './session/ending.js';
import { finishStream } from './session/finish.js';
import { KernelSigns } from './session/kernel-signs.js';
import { Watchdog } from './session/watchdog.js';

export type { SessionEnding } from './session/ending.js';

/** After the kernel says it panicked, QEMU gets this long to exit by itself (ms). */
const PANIC_GRACE_MS = 3000;

/** What a session offers the in-guest agent's side (runner/agent/lane.ts). */
export interface AgentFeed {
  /** Lines from the agent, in order, each once. */
  lines(lines: readonly string[]): void;
  /** Documents the parser has started so far (steps are mapped to the documents they printed). */
  documents(): number;
  /** End the session now (the agent failed to start): QEMU is killed. */
  fail(): void;
  /** The agent delivered everything and is leaving: QEMU is stopped, the ending stays `exited`. */
  done?(): void;
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

export async function runSession(opts: SessionOptions): Promise<SessionResult> {
  const started = Date.now();
  const log = ConsoleFollower.create(opts.rawLogPath);
  const watchdog = new Watchdog();
  const stop = new StopRequest();
  const signs = new KernelSigns();
  const onAbort = (): void => stop.stop('interrupted');
  let proc: QemuProcess | undefined;
  try {
    // The parser (and the agent's join), fed from the log as QEMU writes it.
    const { stream, join } = connect(opts, watchdog, stop, signs);
    const onConsole = (chunk: Buffer): void => {
      opts.onRaw?.(chunk);
      signs.chunk(chunk);
      stream.write(chunk);
    };
    const stderr: Buffer[] = [];
    log.follow(onConsole);

    // QEMU, with the log as its fd 3, and the timers that may stop it.
    proc = await QemuProcess.start(
      opts.command,
      onConsole,
      (chunk) => {
        stderr.push(chunk);
        opts.onRaw?.(chunk);
      },
      opts.debianPackage,
      log.fd,
    );
    armStall(opts, watchdog, stop);
    watchdog.arm('run', opts.timeoutMs, () => stop.stop('timeout'));
    watchdog.arm('kvm-probe', opts.kvmProbeMs, () => {
      if (!signs.sawKernel) stop.stop('kvm-dead');
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) stop.stop('interrupted');

    // The first of QEMU's exit and a stop.
    const first = await Promise.race([proc.exited.then(() => 'exited' as const), stop.requested]);
    if (first !== 'exited' || stop.agentDone) await proc.kill();
    const exit = await proc.exited;

    // Drain: the rest of the log, then no more timers.
    log.stopFollowing();
    log.drain();
    watchdog.stopAll();
    opts.signal?.removeEventListener('abort', onAbort);
    const ending = decideEnding(first, exit, signs.sawKernel, Boolean(opts.kvmProbeMs));

    // Finish: the parser's last word, the console's tail for an agent that ended early.
    stream.end();
    if (join && join.current === 'agent' && !opts.agent!.complete()) {
      // The agent's stream ended early (a panic, a hang, a killed guest): what the console has
      // after the agent's last line joins the same stream. The console log holds it all.
      join.switchTo('serial');
      // From the descriptor, not the name: what QEMU wrote, whatever is at that name now.
      splitLines(log.readAll(), (text, info) => join.serial(text, info));
    }
    const result = finishStream(stream, ending, {
      stallTimeoutMs: opts.stallTimeoutMs,
      timeoutMs: opts.timeoutMs,
      waitedMs: stop.waitedMs(),
    });
    // QEMU's own messages (`terminating on signal 15`, errors) go after the console.
    try {
      if (stderr.length > 0) log.append(Buffer.concat(stderr));
    } catch {
      // a full disk: the log keeps what QEMU wrote; the reports' writes will say the disk is full
    }
    const kept = opts.keepConsole ? log.readAll() : undefined;
    return {
      ...(kept ? { console: kept } : {}),
      result,
      ending,
      exit,
      stderr: proc.stderrTail,
      sawKernel: signs.sawKernel,
      panicked: signs.panicked,
      wallMs: Date.now() - started,
    };
  } finally {
    watchdog.stopAll();
    opts.signal?.removeEventListener('abort', onAbort);
    log.close();
    await proc?.kill();
  }
}

/** Re-arm the stall timer (a sign of progress). */
function armStall(opts: SessionOptions, watchdog: Watchdog, stop: StopRequest): void {
  watchdog.arm('stall', opts.stallTimeoutMs, () => stop.stop('stall'));
}

/**
 * The KTAP stream the console feeds, and with the agent the join between the agent's lines and
 * the console's (the console's lines go to the join, which feeds the stream the lines it picks).
 */
function connect(
  opts: SessionOptions,
  watchdog: Watchdog,
  stop: StopRequest,
  signs: KernelSigns,
): { stream: KtapStream; join: StreamJoin | undefined } {
  const agent = opts.agent;
  let documents = 0;
  const join = agent
    ? new StreamJoin((text, info) => {
        if (agent.isProgress(text)) armStall(opts, watchdog, stop);
        stream.line(text, info);
      })
    : undefined;
  const stream = new KtapStream({
    clock: Date.now,
    onEvent: (e) => {
      stop.event();
      if (e.type === 'document-start') documents++;
      if (KTAP_PROGRESS.has(e.type) || (e.type === 'log' && e.diagnostic)) armStall(opts, watchdog, stop);
      opts.onEvent?.(e);
    },
    onLine: (text, info) => {
      // panic=-1 reboots at once (and -no-reboot ends QEMU), but a kernel can override it (a panic
      // timeout of its own, an arch whose reset hangs): nothing useful comes after a panic, so QEMU
      // is stopped if it has not gone within the grace.
      if (signs.line(text)) watchdog.arm('panic', PANIC_GRACE_MS, () => stop.stop('panicked'));
      if (!join) return true;
      agent!.consoleLine(text);
      if (agent!.isProgress(text)) armStall(opts, watchdog, stop);
      join.serial(text, info);
      return false;
    },
  });
  agent?.attach({
    lines: (lines) => {
      for (const l of lines) join!.agent(l);
    },
    documents: () => documents,
    fail: () => stop.stop('agent-failed'),
    done: () => {
      stop.agentDone = true;
      stop.stop('exited');
    },
  });
  return { stream, join };
}
