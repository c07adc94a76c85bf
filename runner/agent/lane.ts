/**
 * One guest with the agent in it: the channel to it, the steps it is handed
 * (filter_glob for a module-only lane, its share of the modules from the
 * queue all lanes take from, then the re-runs for --repeat), the watch for
 * an agent that never starts, and the fold of its steps into the result.
 */
import type { AgentStep, StepOutcome } from '../../agent/protocol.js';
import { INIT_PREFIX, MARKER_PREFIX, AGENT_LOG_PREFIX, bootProofIn } from '../../agent/protocol.js';
import type { KtapEvent, RunResult } from '../ktap/model.js';
import { stripPrintk } from '../ktap/console-filter.js';
import type { AgentFeed, AgentHooks, SessionEnding } from '../session.js';
import { foldAttempts, type StepRecord } from './attempts.js';
import type { AgentChannel, AgentServer } from './server.js';

/** Modules waiting to be loaded, shared by every lane of a run (work stealing). */
export class ModuleQueue {
  private readonly pending: string[];
  readonly all: readonly string[];

  constructor(modules: readonly string[]) {
    this.all = [...modules];
    this.pending = [...modules];
  }

  take(): string | undefined {
    return this.pending.shift();
  }

  get left(): readonly string[] {
    return this.pending;
  }
}

export interface AgentLaneOptions {
  server: AgentServer;
  logPath: string;
  modules: ModuleQueue;
  /** Attempts per suite (--repeat), default 1. */
  repeat?: number;
  /** The lane booted with a glob that matches nothing: set this glob before loading modules. */
  resetGlob?: string;
  /** Files to write in the guest first (path, value), e.g. sysctls. */
  writes?: readonly (readonly [string, string])[];
  /** No hello within this long after QEMU starts: the agent failed (ms). */
  helloTimeoutMs: number;
  /** One-line warnings: peers and frames the channel refused. */
  warn?: (message: string) => void;
  cutEveryLines?: number;
}

/** The agent's closing summary on the console (`lines=N seq=S lost=L connects=C ms=M`), printed just before its bye. */
const SUMMARY_LINE = `${AGENT_LOG_PREFIX}lines=`;

/** Console lines that tell why a guest never ran the agent. */
const FAILURE_LINE = new RegExp(
  [
    `^${INIT_PREFIX}(error|agent-exit)`,
    `^${AGENT_LOG_PREFIX}(connect|error)`,
    'Requested init .* failed',
    'Cannot open root device',
    'Unable to mount root',
    'No working init found',
    '9pnet.*(no channels|error)',
    'Kernel panic - not syncing',
  ].join('|'),
);

export class AgentLane {
  readonly channel: AgentChannel;
  readonly steps: StepRecord[] = [];
  /** Why the agent never started, or stopped early (undefined: it did its job). */
  failure: string | undefined;
  private feed: AgentFeed | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private lastFailureLine: string | undefined;
  private readonly suites: string[] = [];
  private reruns: { suite: string; attempt: number }[] | undefined;
  private globSet = false;
  private writesDone = 0;
  private interrupted = false;
  private readonly missingRunFile = new Set<string>();
  /** The agent's closing summary has reached the serial console (its last line there). */
  private summaryOnConsole = false;

  get logPath(): string {
    return this.opts.logPath;
  }

  constructor(private readonly opts: AgentLaneOptions) {
    this.channel = opts.server.open({
      logPath: opts.logPath,
      onLines: (lines) => this.feed?.lines(lines),
      next: (after, outcome) => this.next(after, outcome),
      onHello: () => clearTimeout(this.helloTimer),
      onBye: () => this.doneIfSaidAll(),
      ...(opts.warn ? { warn: opts.warn } : {}),
      ...(opts.cutEveryLines ? { cutEveryLines: opts.cutEveryLines } : {}),
    });
  }

  /** Top-level suites, in the order they finished (the re-run list). */
  onEvent(e: KtapEvent): void {
    if (e.type === 'test-end' && e.path.length === 1 && !this.reruns && !this.suites.includes(e.test.name)) this.suites.push(e.test.name);
  }

  hooks(): AgentHooks {
    return {
      attach: (feed) => {
        this.feed = feed;
        this.helloTimer = setTimeout(() => {
          if (this.channel.firstHelloAt !== undefined) return;
          this.failure = `no word from the agent within ${this.opts.helloTimeoutMs / 1000} s${this.lastFailureLine ? `; the console said: ${this.lastFailureLine}` : ''}`;
          feed.fail();
        }, this.opts.helloTimeoutMs);
      },
      consoleLine: (text) => {
        const proof = bootProofIn(text);
        if (proof) this.channel.proveBoot(proof);
        if (text.startsWith(SUMMARY_LINE)) {
          this.summaryOnConsole = true;
          this.doneIfSaidAll();
        }
        if (this.channel.firstHelloAt !== undefined || this.lastFailureLine !== undefined) return;
        const body = stripPrintk(text).body;
        if (FAILURE_LINE.test(body)) this.lastFailureLine = body.trim();
      },
      isProgress: (text) => text.includes(`] ${MARKER_PREFIX}step `) || text.startsWith(INIT_PREFIX) || text.startsWith(AGENT_LOG_PREFIX),
      complete: () => this.channel.finished,
    };
  }

  /**
   * The agent said bye (every line delivered, every step done) and its summary, which it prints
   * just before, is on the console: nothing the run needs is left in the guest, so QEMU is stopped
   * rather than waited for (init's exit and the guest's reboot cost about 0.7 s under TCG).
   */
  private doneIfSaidAll(): void {
    if (this.channel.finished && this.summaryOnConsole) this.feed?.done?.();
  }

  private next(after: number, outcome: StepOutcome | undefined): AgentStep | undefined {
    const docs = this.feed?.documents() ?? 0;
    const done = this.steps.find((s) => s.id === after);
    if (done) {
      done.endDoc = docs;
      if (outcome) done.outcome = outcome;
      if (done.step.op === 'run' && outcome?.missing) this.missingRunFile.add(done.step.suite);
    }
    const issue = (step: AgentStep, attempt?: number): AgentStep => {
      this.steps.push({ id: after + 1, step, firstDoc: docs, ...(attempt ? { attempt } : {}) });
      return step;
    };
    const write = this.opts.writes?.[this.writesDone];
    if (write) {
      this.writesDone++;
      return issue({ op: 'write', path: write[0], value: write[1] });
    }
    if (this.opts.resetGlob !== undefined && !this.globSet) {
      this.globSet = true;
      return issue({ op: 'filter_glob', value: this.opts.resetGlob });
    }
    const module = this.opts.modules.take();
    if (module) {
      return issue({ op: 'insmod', path: module });
    }
    const repeat = this.opts.repeat ?? 1;
    if (repeat > 1) {
      if (!this.reruns) {
        this.reruns = [];
        for (let attempt = 2; attempt <= repeat; attempt++) {
          for (const suite of this.suites) if (!suite.includes('/')) this.reruns.push({ suite, attempt });
        }
      }
      let r = this.reruns.shift();
      while (r && this.missingRunFile.has(r.suite)) r = this.reruns.shift();
      if (r) return issue({ op: 'run', suite: r.suite }, r.attempt);
    }
    return undefined;
  }

  /** Called when the session ended: sets `failure` (an agent that never connected took no module). */
  settle(ending: SessionEnding, panicked = false): void {
    this.release();
    if (ending === 'interrupted') this.interrupted = true;
    if (this.channel.firstHelloAt === undefined) {
      if (ending !== 'interrupted')
        this.failure ??= `the agent never connected${this.lastFailureLine ? `; the console said: ${this.lastFailureLine}` : ''}`;
    } else if (!this.channel.finished && ending !== 'interrupted') {
      this.failure = `the agent's stream ended before its work was done (${panicked || ending === 'panicked' ? 'the kernel panicked' : ending === 'exited' ? 'the guest stopped' : ending})`;
    }
  }

  release(): void {
    clearTimeout(this.helloTimer);
    this.opts.server.release(this.channel);
  }

  /** The lane's result with its steps folded in. */
  fold(result: RunResult, modulesNotLoaded: readonly string[] = []): RunResult {
    const folded = foldAttempts(result, {
      steps: this.steps,
      repeat: this.opts.repeat ?? 1,
      modulesNotLoaded,
      ...(this.failure || this.interrupted ? { cutShort: this.failure ?? 'interrupted' } : {}),
    });
    folded.metadata = {
      ...folded.metadata,
      agent: this.channel.firstHelloAt === undefined ? 'not started' : this.channel.finished ? 'finished' : 'lost',
      agentLines: String(this.channel.have),
      agentConnects: String(this.channel.connects),
      agentDuplicatesIgnored: String(this.channel.duplicates),
      ...(this.channel.cuts ? { agentCuts: String(this.channel.cuts) } : {}),
      ...(this.channel.refused ? { agentRefused: String(this.channel.refused) } : {}),
    };
    return folded;
  }
}
