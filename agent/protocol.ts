/**
 * The agent protocol (v1): JSON text frames between the in-guest agent and
 * the runner, on `ws://HOST:PORT/agent?token=T`. Shared by both sides; pure.
 *
 * Lines are numbered from 1 in the order the agent read them from
 * `/dev/kmsg`. The runner acknowledges cumulatively; after a lost
 * connection the agent says hello again and resends from the runner's
 * `have + 1`, so nothing is lost and nothing doubled. Steps (module loads,
 * debugfs re-runs, …) are handed out one at a time when the agent is
 * `ready`, which lets lanes share a queue of modules. docs/agent.md.
 */

export const AGENT_PROTOCOL_VERSION = 1;
export const AGENT_PATH = '/agent';

/** One thing the agent does in the guest, between two marker records in the kernel log. */
export type AgentStep =
  /** Load a module (its suites run at once, filtered by the current filter_glob). */
  | { op: 'insmod'; path: string }
  | { op: 'rmmod'; name: string }
  /** Set /sys/module/kunit/parameters/filter_glob (written without a newline). */
  | { op: 'filter_glob'; value: string }
  /** Run a suite again through /sys/kernel/debug/kunit/SUITE/run (returns when it is done). */
  | { op: 'run'; suite: string }
  /** Write a value to a file in the guest (a sysctl, a module parameter), e.g. /proc/sys/kernel/panic_on_oops. */
  | { op: 'write'; path: string; value: string };

export interface StepOutcome {
  /** 0: it worked. */
  status: number;
  ms: number;
  /** Error text or command output, if any (shortened). */
  note?: string;
  /** The step could not be done at all because its target is missing (ENOENT). */
  missing?: boolean;
}

export type AgentFrame =
  | { t: 'hello'; v: number; boot: string; next: number; uptime: number; node: string }
  /** Lines numbered from `from`. */
  | { t: 'lines'; from: number; lines: string[] }
  /** An ack is overdue: please send one. */
  | { t: 'sync' }
  /** Done with step `after` (0: none yet) and every line is acked: what next? */
  | { t: 'ready'; after: number; outcome?: StepOutcome }
  /** All steps done, every line acked. */
  | { t: 'bye'; last: number; summary: string };

export type RunnerFrame =
  /** The runner holds lines 1..have. */
  | { t: 'welcome'; v: number; have: number }
  | { t: 'ack'; n: number }
  | { t: 'step'; id: number; step: AgentStep }
  /** No more steps. */
  | { t: 'done' }
  | { t: 'bye' };

/** Close codes the runner uses. */
export const CLOSE_GAP = 4002;
export const CLOSE_OTHER_BOOT = 4003;
export const CLOSE_BAD_FRAME = 4004;

/** Marker records the agent writes into the kernel log around each step (they reach the console too). */
export const MARKER_PREFIX = 'kunit-bridge: ';
/** Lines init and the agent print on the console (not in the kernel log). */
export const INIT_PREFIX = 'kunit-bridge-init: ';
export const AGENT_LOG_PREFIX = 'kunit-bridge-agent: ';

/** A step in words, for markers and messages. */
export function describeStep(step: AgentStep): string {
  switch (step.op) {
    case 'insmod': return `insmod ${step.path}`;
    case 'rmmod': return `rmmod ${step.name}`;
    case 'filter_glob': return `filter_glob ${JSON.stringify(step.value)}`;
    case 'run': return `run ${step.suite}`;
    case 'write': return `write ${step.path} ${JSON.stringify(step.value)}`;
  }
}

/** Parse a frame from the other side; undefined when it is not one. */
export function parseFrame<T extends { t: string }>(data: string): T | undefined {
  try {
    const v = JSON.parse(data) as unknown;
    return typeof v === 'object' && v !== null && typeof (v as { t?: unknown }).t === 'string' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}
