/**
 * One run on a live kernel over SSH: the kernel log streamed from
 * `cat /dev/kmsg` on an exec channel into the KTAP core, the steps of the
 * plan run between marker records, the connection re-made when it drops
 * (same boot: the log resumes after the last seq seen; another boot: the
 * target rebooted), stall and run timers that kill the remote commands by
 * PID. Always ends with what was seen; `kmsg.log` holds every record once.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { consoleLines } from '../../agent/kmsg.js';
import { MARKER_PREFIX } from '../../agent/protocol.js';
import { KtapStream } from '../ktap/index.js';
import type { KtapEvent, RunResult } from '../ktap/model.js';
import { connect, type Connection, type ConnectOptions } from './connection.js';
import { gapMessage, KmsgCursor, kmsgCommand } from './kmsg-cursor.js';
import {
  BEGIN_MARKER,
  END_MARKER,
  MISSING,
  RUN_MARKER,
  stepScript,
  SYNC_MARKER,
  syncScript,
  type PlannedStep,
  type SshStep,
  type StepPlan,
} from './plan.js';
import { KUNIT_DEBUGFS } from './preflight.js';
import { Remote, type Streaming, type TargetLog } from './remote.js';

export type TargetEnding =
  /** Every step done. */
  | 'done'
  | 'timeout'
  | 'stall'
  | 'interrupted'
  /** Reconnected to another boot. */
  | 'rebooted'
  /** The connection ended and could not be made again (a panic, a power cut). */
  | 'gone'
  /** The target stopped answering (keepalives unanswered) and could not be reached again. */
  | 'lost';

export interface StepDone {
  planned: PlannedStep;
  /** Documents started before the begin marker, and before the end marker. */
  firstDoc: number;
  endDoc?: number;
  status?: number;
  ms?: number;
  note?: string;
  missing?: boolean;
  /** From issuing the step to its end marker read back on the host (ms). */
  hostMs?: number;
}

export interface TargetSessionOptions {
  connection: Connection;
  /** For reconnects. */
  connect: ConnectOptions;
  bootId: string;
  log: TargetLog;
  kmsgLogPath: string;
  plan: StepPlan;
  /** This run's id in the markers. */
  runId: string;
  /** Work done while the boot's log streams in, before the first step (staging modules). */
  beforeSteps?: (remote: Remote, conn: Connection) => Promise<void>;
  /** The target has KUnit's debugfs results files (a fallback for a boot log the ring lost). */
  debugfsResults?: boolean;
  timeoutMs?: number;
  stallTimeoutMs?: number;
  /** How long to keep trying to reconnect (ms, default 30000). */
  reconnectWindowMs?: number;
  onEvent?: (event: KtapEvent) => void;
  signal?: AbortSignal;
  warn?: (message: string) => void;
}

export interface TargetSessionResult {
  result: RunResult;
  ending: TargetEnding;
  /** What ended it, in words (for the warning and the crashed test's reason). */
  why?: string;
  steps: StepDone[];
  /** The step running when the session ended early. */
  current?: StepDone;
  /** Documents printed inside the steps of other kunit-bridge runs (before this one): not this run's. */
  foreignDocs: number[];
  cursor: KmsgCursor;
  reconnects: number;
  wallMs: number;
  /** When the first test result was read (epoch ms). */
  firstResultAt?: number;
  /**
   * The kernel log started after seq 0: the suites' debugfs `results`, read instead, and how many
   * documents the log had before them (those are replaced).
   */
  bootResults?: { text: string; firstDoc: number };
}

const KTAP_PROGRESS: ReadonlySet<KtapEvent['type']> = new Set(['document-start', 'plan', 'test-start', 'test-end', 'crash']);
const PANIC_LINE = 'Kernel panic - not syncing';
/** Every suite's last results from debugfs, one KTAP document each. */
const DEBUGFS_RESULTS = `for d in ${KUNIT_DEBUGFS}/*; do [ -r "$d/results" ] && cat "$d/results"; done; true`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number | undefined): string => `${Math.round((ms ?? 0) / 100) / 10} s`;

export class TargetSession {
  private conn: Connection;
  private readonly remote: Remote;
  private readonly cursor = new KmsgCursor();
  private readonly stream: KtapStream;
  private documents = 0;
  private readonly steps = new Map<number, StepDone>();
  private readonly order: StepDone[] = [];
  private current: StepDone | undefined;
  private readonly waiters = new Map<string, () => void>();
  private readonly seen = new Set<string>();
  private syncs = 0;
  private cats: number[] = [];
  private stepPid: number | undefined;
  private catStream: Streaming | undefined;
  private connected = true;
  private onConnected: (() => void)[] = [];
  private reconnects = 0;
  private panicSeen = false;
  private lastLines: string[] = [];
  private stopping = false;
  private ending: { ending: TargetEnding; why?: string } | undefined;
  private settle: (e: { ending: TargetEnding; why?: string }) => void = () => undefined;
  private readonly ended = new Promise<{ ending: TargetEnding; why?: string }>((r) => {
    this.settle = r;
  });
  private stallTimer: NodeJS.Timeout | undefined;
  private foreignOpen = false;
  private firstResultAt: number | undefined;
  private bootResults: { text: string; firstDoc: number } | undefined;
  private readonly foreignDocs: number[] = [];

  constructor(private readonly opts: TargetSessionOptions) {
    this.conn = opts.connection;
    this.remote = new Remote(this.conn.client, opts.log);
    writeFileSync(opts.kmsgLogPath, '');
    this.stream = new KtapStream({
      clock: Date.now,
      onEvent: (e) => {
        if (e.type === 'document-start') {
          if (this.foreignOpen) this.foreignDocs.push(this.documents);
          this.documents++;
        }
        if (e.type === 'test-end' && e.path.length === 1) this.opts.plan.suiteSeen(e.test.name);
        if (e.type === 'test-end') this.firstResultAt ??= Date.now();
        if (KTAP_PROGRESS.has(e.type) || (e.type === 'log' && e.diagnostic)) this.armStall();
        opts.onEvent?.(e);
      },
    });
  }

  private end(ending: TargetEnding, why?: string): void {
    if (this.ending) return;
    this.ending = { ending, ...(why ? { why } : {}) };
    this.settle(this.ending);
  }

  private armStall(): void {
    if (!this.opts.stallTimeoutMs || this.ending) return;
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(
      () => this.end('stall', `no KTAP progress for ${secs(this.opts.stallTimeoutMs)} (--stall-timeout)`),
      this.opts.stallTimeoutMs,
    );
  }

  // ---- the kernel log ------------------------------------------------------------------------
  private startStream(): void {
    this.cursor.begin();
    const s = this.remote.stream(kmsgCommand(this.cursor.lastSeq), (chunk) => this.onChunk(chunk), { logOutput: false });
    this.catStream = s;
    void s.pid.then((pid) => {
      if (pid) this.cats.push(pid);
    });
    void s.done.then(() => {
      if (this.catStream === s) this.cursor.end();
    });
  }

  private onChunk(chunk: Buffer): void {
    for (const item of this.cursor.push(chunk)) {
      if (item.kind === 'gap') {
        const msg = gapMessage(item.gap);
        this.opts.log.note(msg);
        this.opts.warn?.(msg);
        continue;
      }
      appendFileSync(this.opts.kmsgLogPath, `${item.raw}\n`);
      const text = item.record.text;
      if (text.includes(PANIC_LINE)) this.panicSeen = true;
      this.lastLines.push(text.trim());
      if (this.lastLines.length > 5) this.lastLines.shift();
      if (text.startsWith(MARKER_PREFIX)) this.onMarker(text);
      const lines = consoleLines(item.record);
      this.stream.write(`${lines.join('\n')}\n`);
    }
  }

  private onMarker(text: string): void {
    const run = RUN_MARKER.exec(text);
    if (!run) {
      // The in-guest agent's markers (no run id): its steps are not ours either.
      const agent = /^kunit-bridge: step \d+ (begin|end) /.exec(text);
      if (agent) this.foreignOpen = agent[1] === 'begin';
      return;
    }
    const body = run[2]!;
    if (run[1] !== this.opts.runId) {
      // Another run's step: what it printed is not ours.
      if (BEGIN_MARKER.test(body)) this.foreignOpen = true;
      else if (END_MARKER.test(body)) this.foreignOpen = false;
      return;
    }
    this.foreignOpen = false;
    this.armStall();
    const begin = BEGIN_MARKER.exec(body);
    if (begin) {
      const s = this.steps.get(Number(begin[1]));
      if (s) s.firstDoc = this.documents;
      this.mark(`begin ${begin[1]}`);
      return;
    }
    const end = END_MARKER.exec(body);
    if (end) {
      const s = this.steps.get(Number(end[1]));
      if (s) {
        s.endDoc = this.documents;
        s.status = Number(end[2]);
        s.ms = Number(end[3]);
        const note = end[4]?.trim();
        if (note) s.note = note;
        if (note?.includes(MISSING)) s.missing = true;
      }
      this.mark(`end ${end[1]}`);
      return;
    }
    const sync = SYNC_MARKER.exec(body);
    if (sync) this.mark(`sync ${sync[1]}`);
  }

  private mark(key: string): void {
    this.seen.add(key);
    const w = this.waiters.get(key);
    if (w) {
      this.waiters.delete(key);
      w();
    }
  }

  private seenMarker(key: string): Promise<void> {
    if (this.seen.has(key)) return Promise.resolve();
    return new Promise((r) => this.waiters.set(key, r));
  }

  // ---- the connection ------------------------------------------------------------------------
  private whenConnected(): Promise<void> {
    return this.connected ? Promise.resolve() : new Promise((r) => this.onConnected.push(r));
  }

  private watchConnection(conn: Connection): void {
    void conn.closed.then((why) => {
      if (this.stopping || conn !== this.conn) return;
      this.connected = false;
      this.cursor.end();
      this.opts.log.note(`connection lost: ${why ?? 'closed'}`);
      void this.reconnect(why ?? 'closed');
    });
  }

  private async reconnect(why: string): Promise<void> {
    const unanswered = /keepalive/i.test(why);
    if (this.panicSeen) return this.end('gone', this.goneWhy('the kernel panicked'));
    const deadline = Date.now() + (this.opts.reconnectWindowMs ?? 30_000);
    let delay = 250;
    let last = why;
    while (!this.ending) {
      let conn: Connection;
      try {
        conn = await connect(this.opts.connect);
      } catch (err) {
        last = (err as Error).message;
        this.opts.log.note(`reconnect failed: ${last}`);
        const code = (err as { code?: string }).code ?? '';
        if (code !== 'E_SSH_UNREACHABLE' || Date.now() + delay > deadline) {
          if (code !== 'E_SSH_UNREACHABLE') return this.end('lost', last);
          return unanswered
            ? this.end(
                'lost',
                `the target stopped answering (${why}); reconnecting for ${secs(this.opts.reconnectWindowMs ?? 30_000)} failed: ${last}`,
              )
            : this.end('gone', this.goneWhy(`the connection ended (${why}) and could not be made again: ${last}`));
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 4000);
        continue;
      }
      if (this.ending) {
        conn.close();
        return;
      }
      this.conn = conn;
      this.remote.use(conn.client);
      const boot = await this.remote.run('cat /proc/sys/kernel/random/boot_id');
      if (boot.status !== 0) {
        conn.close();
        continue;
      }
      if (boot.stdout.trim() !== this.opts.bootId) {
        this.opts.log.note(`boot id is now ${boot.stdout.trim()}, was ${this.opts.bootId}: the target rebooted`);
        this.connected = true;
        return this.end('rebooted', 'target rebooted');
      }
      this.reconnects++;
      this.opts.log.note(`reconnected (${this.reconnects}); same boot; resuming the kernel log after seq ${this.cursor.lastSeq}`);
      // The old `cat` lives on until its next record: end it now.
      const old = this.cats.splice(0);
      void this.remote.kill(old);
      this.watchConnection(conn);
      this.startStream();
      this.connected = true;
      for (const w of this.onConnected.splice(0)) w();
      return;
    }
  }

  private goneWhy(what: string): string {
    const last = this.lastLines[this.lastLines.length - 1];
    return `${what}${last ? `; the last kernel log record: "${last}"` : ''}`;
  }

  // ---- steps ---------------------------------------------------------------------------------
  /** Write a sync marker and wait until the stream has it: everything before it has been read. */
  private async sync(): Promise<void> {
    const n = ++this.syncs;
    while (!this.ending) {
      await this.whenConnected();
      const cmd = this.remote.run(syncScript(n, this.opts.runId));
      const seen = this.seenMarker(`sync ${n}`).then(() => 'seen' as const);
      const r = await Promise.race([seen, cmd.then((c) => c), this.ended.then(() => 'ended' as const)]);
      if (r === 'seen' || r === 'ended') return;
      if (r.status !== null) {
        await Promise.race([seen, this.ended]);
        return;
      }
      // The connection went: write it again once it is back (a second marker does no harm).
      await sleep(100);
    }
  }

  private async doStep(p: PlannedStep): Promise<void> {
    const rec: StepDone = { planned: p, firstDoc: this.documents };
    const issued = Date.now();
    this.steps.set(p.id, rec);
    this.order.push(rec);
    this.current = rec;
    const ended = this.seenMarker(`end ${p.id}`).then(() => 'ended' as const);
    while (!this.ending) {
      await this.whenConnected();
      const cmd = this.remote.stream(stepScript(p, this.opts.runId), () => undefined);
      void cmd.pid.then((pid) => {
        this.stepPid = pid;
      });
      const r = await Promise.race([ended, cmd.done, this.ended.then(() => 'ended' as const)]);
      if (r === 'ended') break;
      if (r.status !== null) {
        // Done: its end marker is in the log stream, maybe not read yet.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          ended,
          new Promise((r) => {
            timer = setTimeout(r, 5000);
          }),
        ]);
        clearTimeout(timer);
        rec.status ??= r.status;
        break;
      }
      // The channel went with the connection. Once back: if the step never began, issue it again.
      await sleep(100);
      await this.whenConnected();
      await this.sync();
      if (this.seen.has(`begin ${p.id}`)) {
        await Promise.race([ended, this.ended]);
        break;
      }
    }
    this.stepPid = undefined;
    this.current = undefined;
    rec.endDoc ??= this.documents;
    rec.hostMs = Date.now() - issued;
  }

  /**
   * Run `fn` again on the new connection when the connection went while it ran (it must be safe to
   * repeat); another failure is thrown.
   */
  private async overReconnects(fn: (remote: Remote, conn: Connection) => Promise<void>): Promise<void> {
    while (!this.ending) {
      await this.whenConnected();
      const conn = this.conn;
      try {
        // An SFTP transfer may never call back when its connection dies: the close decides.
        const lost = conn.closed.then((why) => {
          throw new Error(`the connection went (${why ?? 'closed'})`);
        });
        lost.catch(() => undefined);
        await Promise.race([fn(this.remote, conn), lost]);
        return;
      } catch (err) {
        await sleep(500); // the connection's close event may come a little after the failure
        if (conn === this.conn && this.connected) throw err;
        this.opts.log.note(`retrying after the reconnect: ${(err as Error).message}`);
      }
    }
  }

  private async work(): Promise<TargetEnding> {
    if (this.opts.beforeSteps) await this.overReconnects(this.opts.beforeSteps);
    await this.sync(); // the boot's records are in
    if (this.cursor.gaps[0]?.after === -1 && this.opts.debugfsResults) {
      // The ring no longer holds the start of the boot: the boot's KTAP may be gone. The suites'
      // debugfs results still hold each one's last run.
      const r = await this.remote.run(DEBUGFS_RESULTS);
      if (r.status === 0) this.bootResults = { text: r.stdout, firstDoc: this.documents };
    }
    for (let p = this.opts.plan.next(); p && !this.ending; p = this.opts.plan.next()) {
      await this.doStep(p);
      const rec = this.steps.get(p.id)!;
      if (p.step.op === 'run' && rec.missing) this.opts.plan.noRunFile(p.step.suite);
    }
    await this.sync();
    return 'done';
  }

  async run(): Promise<TargetSessionResult> {
    const started = Date.now();
    this.watchConnection(this.conn);
    this.startStream();
    this.armStall();
    const timers: NodeJS.Timeout[] = [];
    if (this.opts.timeoutMs)
      timers.push(
        setTimeout(() => this.end('timeout', `the run took longer than ${secs(this.opts.timeoutMs)} (--timeout)`), this.opts.timeoutMs),
      );
    const onAbort = (): void => this.end('interrupted', 'interrupted');
    this.opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.opts.signal?.aborted) onAbort();
    void this.work().then(
      (e) => this.end(e),
      (err: Error) => this.end('lost', err.message),
    );
    const { ending, why } = await this.ended;
    this.stopping = true;
    for (const t of timers) clearTimeout(t);
    clearTimeout(this.stallTimer);
    this.opts.signal?.removeEventListener('abort', onAbort);
    // The remote commands do not end with their channels: kill them by PID (never the target).
    if (this.connected && ending !== 'rebooted') {
      const pids = [...this.cats, ...(this.stepPid ? [this.stepPid] : [])];
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.remote.kill(pids),
        new Promise((r) => {
          timer = setTimeout(r, 5000);
        }),
      ]);
      clearTimeout(timer);
    }
    this.conn.close();
    const message = why ?? 'output ended before the test finished';
    const result = this.stream.finish(
      ending === 'stall' || ending === 'timeout' ? { status: 'timeout', message } : { status: 'incomplete', message },
    );
    return {
      result,
      ending,
      ...(why ? { why } : {}),
      steps: this.order,
      ...(this.current ? { current: this.current } : {}),
      cursor: this.cursor,
      reconnects: this.reconnects,
      wallMs: Date.now() - started,
      foreignDocs: this.foreignDocs,
      ...(this.firstResultAt ? { firstResultAt: this.firstResultAt } : {}),
      ...(this.bootResults ? { bootResults: this.bootResults } : {}),
    };
  }
}

export type { SshStep };
