/**
 * The in-guest agent, in the order it lives:
 *
 * 1. start: read the token file (none: say so, exit 1), print the boot proof
 *    on the serial console (the runner binds the channel to this boot), turn
 *    printk_devkmsg on, open /dev/kmsg;
 * 2. read the kernel log every 20 ms, from the oldest record (the boot's KTAP
 *    included), into numbered lines ({@link KernelLog}, agent/outbox.ts);
 * 3. connect to the runner, say hello, send the lines from what the runner
 *    holds; reconnect whenever the connection is lost;
 * 4. ask for a step once every line is acked, do it between two marker
 *    records (agent/steps.ts), until the runner says done;
 * 5. say bye, wait up to 2 s for the runner's bye; the exit code is returned.
 *
 * All state lives in one {@link Agent}; the guest (files, /dev/kmsg, the
 * console, processes) comes in as {@link AgentDeps}. agent/main.ts is the
 * entry that runs it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { AgentArgs } from './args.js';
import { KernelLog, openKmsg, type KmsgDevice } from './kernel-log.js';
import { Outbox } from './outbox.js';
import {
  AGENT_LOG_PREFIX,
  AGENT_PATH,
  AGENT_PROTOCOL_VERSION,
  CLOSE_BAD_FRAME,
  MAX_FRAME_BYTES,
  MAX_FRAME_CHARS,
  bootProofLine,
  decodeRunnerFrame,
  describeStep,
  type AgentFrame,
  type RunnerFrame,
  type StepOutcome,
} from './protocol.js';
import { beginMarker, doneMarker, endMarker, guestOps, outcomeOf, perform, type GuestOps } from './steps.js';
import { WsClient } from './ws-client.js';

/** What the agent needs of the guest. */
export interface AgentDeps {
  /** Write to the serial console (the agent's stderr). */
  console(text: string): void;
  readFile(path: string): string;
  writeFile(path: string, data: string): void;
  openKmsg(): KmsgDevice;
  steps: GuestOps;
  /** Node's version (in the hello) and how long Node has been up, in ms. */
  nodeVersion: string;
  nodeUptimeMs(): number;
}

/** The real guest. */
export const guestDeps: AgentDeps = {
  console: (text) => {
    process.stderr.write(text);
  },
  readFile: (path) => readFileSync(path, 'utf8'),
  writeFile: (path, data) => writeFileSync(path, data),
  openKmsg: () => openKmsg(),
  steps: guestOps,
  nodeVersion: process.version,
  nodeUptimeMs: () => process.uptime() * 1000,
};

const READ_EVERY_MS = 20;
/** An ack this overdue: ask for one with a sync (acks are cumulative; cheap). */
const ACK_OVERDUE_MS = 1000;
const BYE_WAIT_MS = 2000;
/** Connection errors said on the console, at most. */
const MAX_CONNECT_ERRORS_SHOWN = 5;

type StepOrDone = RunnerFrame & ({ t: 'step' } | { t: 'done' });
interface Socket {
  send(data: string): void;
  close(code?: number): void;
}

/** Run the agent until its work is done; resolves with the process's exit code. */
export async function runAgent(args: AgentArgs, deps: AgentDeps = guestDeps): Promise<number> {
  const t0 = Date.now();
  const log = (msg: string): void => deps.console(`${AGENT_LOG_PREFIX}${msg}\n`);
  let token: string;
  try {
    token = deps.readFile(args.tokenFile).trim();
  } catch (e) {
    log(`error: cannot read the token file: ${(e as Error).message}`);
    return 1;
  }
  const bootId = deps.readFile('/proc/sys/kernel/random/boot_id').trim();
  // On the serial console, which only this guest writes: the runner binds the channel to this boot.
  deps.console(`${bootProofLine(bootId)}\n`);
  // Writes to /dev/kmsg are rate-limited unless printk_devkmsg is on (the runner puts
  // printk.devkmsg=on on the command line, which also locks it; the sysctl wants the newline).
  try {
    if (deps.readFile('/proc/sys/kernel/printk_devkmsg').trim() !== 'on') deps.writeFile('/proc/sys/kernel/printk_devkmsg', 'on\n');
  } catch (e) {
    log(`printk_devkmsg: ${(e as Error).message}`);
  }
  const agent = new Agent({ ...args, token, bootId, t0 }, deps, log);
  return agent.run();
}

interface AgentStart extends AgentArgs {
  token: string;
  bootId: string;
  /** When the agent started (ms since the epoch). */
  t0: number;
}

class Agent {
  private readonly outbox = new Outbox({ maxChars: MAX_FRAME_CHARS });
  private readonly kernelLog: KernelLog;
  /** The connection, once open and welcomed. */
  private sock: Socket | undefined;
  private connects = 0;
  private connectErrors = 0;
  private lastAckAt = Date.now();
  /** Every step done and every line sent: the bye has been sent. */
  private finished = false;
  private runnerBye = false;
  /** Waiting for the next step: the ready to (re)send, and whether this connection has had it. */
  private ready: { frame: AgentFrame & { t: 'ready' }; sent: boolean } | undefined;
  private onStep: ((f: StepOrDone) => void) | undefined;
  private readonly sentWaiters: (() => void)[] = [];

  constructor(
    private readonly start: AgentStart,
    private readonly deps: AgentDeps,
    private readonly log: (msg: string) => void,
  ) {
    this.kernelLog = new KernelLog(deps.openKmsg(), this.outbox, () => this.pump());
  }

  async run(): Promise<number> {
    const { deps, log, outbox, kernelLog } = this;
    const syncing = setInterval(() => this.syncIfOverdue(), 250).unref();
    log(`node ${deps.nodeVersion}: up after ${Math.round(deps.nodeUptimeMs())} ms; guest uptime ${this.uptime()} s`);
    // Connect first, then read the boot's records: the TCP and WebSocket handshakes go on meanwhile.
    const connecting = this.connect();
    const reading = setInterval(() => kernelLog.drain(), READ_EVERY_MS);
    kernelLog.drain();
    log(`read ${outbox.last} lines from /dev/kmsg`);
    await connecting;
    const steps = await this.doSteps();
    await kernelLog.mark(doneMarker(steps));
    await this.allSent();
    this.finished = true;
    this.bye();
    // Wait briefly for the runner's bye; exit either way (init then ends the guest).
    const deadline = Date.now() + BYE_WAIT_MS;
    while (!this.runnerBye && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearInterval(reading);
    clearInterval(syncing);
    kernelLog.close();
    return 0;
  }

  /** Ask for each step, do it between its markers; the number of steps done. */
  private async doSteps(): Promise<number> {
    let after = 0;
    let outcome: StepOutcome | undefined;
    let steps = 0;
    for (;;) {
      const f = await this.nextStep(after, outcome);
      if (!f) return steps;
      await this.kernelLog.mark(beginMarker(f.id, describeStep(f.step)));
      const started = Date.now();
      const r = await perform(f.step, this.deps.steps);
      outcome = outcomeOf(r, Date.now() - started);
      await this.kernelLog.mark(endMarker(f.id, outcome));
      after = f.id;
      steps++;
    }
  }

  /**
   * Say bye with the closing summary, which goes on the console first: once the runner has the bye
   * and this line, it stops QEMU (docs/agent.md). Again after a reconnect, with the new count.
   */
  private bye(): void {
    const { outbox, kernelLog } = this;
    const summary = `lines=${outbox.last} seq=${kernelLog.lastSeq} lost=${kernelLog.lost} connects=${this.connects} ms=${Date.now() - this.start.t0}`;
    this.log(summary);
    this.send({ t: 'bye', last: outbox.last, summary });
  }

  private uptime(): number {
    return Number(this.deps.readFile('/proc/uptime').split(' ')[0]);
  }

  private send(f: AgentFrame): void {
    this.sock?.send(JSON.stringify(f));
  }

  /**
   * Send what can be sent; tell who waits for "all sent"; send a pending ready. A ready (or the bye)
   * follows the lines on the same connection, which is ordered: the runner has every line before it
   * reads the ready, without an ack's round trip first. After a reconnect both are sent again.
   */
  private pump(): void {
    if (!this.sock) return;
    for (const f of this.outbox.take()) this.send({ t: 'lines', ...f });
    if (this.outbox.allSent) {
      for (const w of this.sentWaiters.splice(0)) w();
      if (this.ready && !this.ready.sent) {
        this.ready.sent = true;
        this.send(this.ready.frame);
      }
    }
  }

  /** Every line read so far is sent on the current connection. */
  private allSent(): Promise<void> {
    return this.sock && this.outbox.allSent ? Promise.resolve() : new Promise((r) => this.sentWaiters.push(r));
  }

  private syncIfOverdue(): void {
    if (this.sock && this.outbox.inFlight > 0 && Date.now() - this.lastAckAt > ACK_OVERDUE_MS) {
      this.lastAckAt = Date.now();
      this.send({ t: 'sync' });
    }
  }

  /** Open a connection (and, whenever one is lost, the next). Returns once the attempt is under way. */
  private async connect(): Promise<void> {
    const { host, port, token, bootId } = this.start;
    const url = `ws://${host}:${port}${AGENT_PATH}?token=${encodeURIComponent(token)}`;
    const ws = new WsClient(url, { handshakeTimeout: 5000, maxPayload: MAX_FRAME_BYTES });
    let opened = false;
    let error: string | undefined;
    const me: Socket = { send: (d) => ws.send(d), close: (c) => ws.close(c) };
    ws.on('open', () => {
      opened = true;
      if (this.connects++ === 0) this.log(`connected ${Date.now() - this.start.t0} ms after start`);
      const hello: AgentFrame = {
        t: 'hello',
        v: AGENT_PROTOCOL_VERSION,
        boot: bootId,
        next: this.outbox.ackedUpTo + 1,
        uptime: this.uptime(),
        node: this.deps.nodeVersion,
      };
      ws.send(JSON.stringify(hello));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const d = isBinary ? { error: 'a binary frame' } : decodeRunnerFrame(String(data));
      if (d.error !== undefined) {
        this.log(`protocol error from the runner: ${d.error}`);
        ws.close(CLOSE_BAD_FRAME);
        return;
      }
      this.receive(d.frame, me);
    });
    ws.on('error', (e: Error) => {
      error = e.message;
    });
    ws.on('close', (code: number) => {
      if (this.sock === me) this.sock = undefined;
      if (!opened && this.connectErrors++ < MAX_CONNECT_ERRORS_SHOWN)
        this.log(`connect ${url.replace(/token=[^&]*/, 'token=…')}: ${error ?? `closed (${code})`}`);
      if (!this.finished || !this.runnerBye) setTimeout(() => void this.connect(), opened ? 50 : 250);
    });
  }

  /** A valid frame from the runner on connection `me`. */
  private receive(f: RunnerFrame, me: Socket): void {
    switch (f.t) {
      case 'welcome':
        this.outbox.resume(f.have);
        this.lastAckAt = Date.now();
        this.sock = me;
        if (this.ready) this.ready.sent = false;
        this.pump();
        if (this.finished) this.bye();
        break;
      case 'ack':
        this.lastAckAt = Date.now();
        this.outbox.ack(f.n);
        this.pump();
        break;
      case 'step':
      case 'done':
        this.onStep?.(f);
        break;
      case 'bye':
        this.runnerBye = true;
        me.close(1000);
        break;
    }
  }

  /** Once every line is sent, say ready (with the last step's outcome) and wait for the next step; undefined: done. */
  private async nextStep(after: number, outcome?: StepOutcome): Promise<(RunnerFrame & { t: 'step' }) | undefined> {
    await this.allSent();
    return new Promise((resolve) => {
      this.onStep = (f) => {
        if (f.t === 'step' && f.id <= after) return; // a step we did already (resent): ignore
        this.onStep = undefined;
        this.ready = undefined;
        resolve(f.t === 'step' ? f : undefined);
      };
      this.ready = { frame: { t: 'ready', after, ...(outcome ? { outcome } : {}) }, sent: false };
      this.pump();
    });
  }
}
