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

import { createHash } from 'node:crypto';

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

/** Close codes (both sides). */
export const CLOSE_GAP = 4002;
/** A hello for another boot than the guest's (a second peer, a forger): refused. */
export const CLOSE_OTHER_BOOT = 4003;
/** A frame that is not one, or not allowed now (before the welcome, a second hello). */
export const CLOSE_BAD_FRAME = 4004;

/** The largest frame either side accepts (bytes; the WebSocket closes with 1009 beyond). */
export const MAX_FRAME_BYTES = 2 << 20;
/** Lines in one `lines` frame, at most. */
export const MAX_FRAME_LINES = 256;
/** Characters of the lines of one `lines` frame, at most (the agent batches within this). */
export const MAX_FRAME_CHARS = 256 << 10;
/** Characters of one line, at most (a printk record's text is at most 1024 bytes). */
export const MAX_LINE_CHARS = 4096;
/** Characters of other strings in frames (boot id, Node version, notes, step arguments). */
const MAX_TEXT = 4096;

/** Marker records the agent writes into the kernel log around each step (they reach the console too). */
export const MARKER_PREFIX = 'kunit-bridge: ';
/** Lines init and the agent print on the console (not in the kernel log). */
export const INIT_PREFIX = 'kunit-bridge-init: ';
export const AGENT_LOG_PREFIX = 'kunit-bridge-agent: ';

/** A step in words, for markers and messages. */
export function describeStep(step: AgentStep): string {
  switch (step.op) {
    case 'insmod':
      return `insmod ${step.path}`;
    case 'rmmod':
      return `rmmod ${step.name}`;
    case 'filter_glob':
      return `filter_glob ${JSON.stringify(step.value)}`;
    case 'run':
      return `run ${step.suite}`;
    case 'write':
      return `write ${step.path} ${JSON.stringify(step.value)}`;
  }
}

/** A line within {@link MAX_LINE_CHARS} (the agent cuts a longer one, which no kernel record makes). */
export function clampLine(line: string): string {
  return line.length <= MAX_LINE_CHARS ? line : `${line.slice(0, MAX_LINE_CHARS - 20)} [line cut by agent]`;
}

// ---- the boot proof -----------------------------------------------------------------------------
// The agent prints a hash of the guest's boot id on the serial console (a path no other process
// can write to) before it connects; the runner binds the channel to the first hello whose boot id
// hashes to it. A peer that has the token but is not the guest cannot know that boot id.

const BOOT_PROOF = `${AGENT_LOG_PREFIX}boot-proof `;

export function bootProof(bootId: string): string {
  return createHash('sha256').update(`kunit-bridge boot ${bootId}`).digest('hex');
}

/** The console line the agent prints. */
export const bootProofLine = (bootId: string): string => `${BOOT_PROOF}${bootProof(bootId)}`;

/** The proof in a console line, if it holds one. */
export function bootProofIn(line: string): string | undefined {
  const at = line.indexOf(BOOT_PROOF);
  if (at < 0) return undefined;
  const hex = line.slice(at + BOOT_PROOF.length, at + BOOT_PROOF.length + 64);
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

// ---- validating frames --------------------------------------------------------------------------
/** A check of one value: what is wrong with it, or undefined. */
type Check = (v: unknown) => string | undefined;
/** Fields of an object: `name` is required, `name?` optional. */
type Fields = Record<string, Check>;

const nat =
  (min: number): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min ? undefined : `not an integer >= ${min}`;
const int: Check = (v) => (Number.isSafeInteger(v) ? undefined : 'not an integer');
const seconds: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'not a number >= 0');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'not a boolean');
const text =
  (max: number, min = 0): Check =>
  (v) =>
    typeof v !== 'string' ? 'not a string' : v.length < min ? 'empty' : v.length > max ? `longer than ${max} characters` : undefined;
const lineList: Check = (v) => {
  if (!Array.isArray(v)) return 'not an array';
  if (v.length < 1 || v.length > MAX_FRAME_LINES) return `not 1 to ${MAX_FRAME_LINES} lines`;
  let chars = 0;
  for (let i = 0; i < v.length; i++) {
    const bad = text(MAX_LINE_CHARS)(v[i]);
    if (bad) return `line ${i}: ${bad}`;
    chars += (v[i] as string).length;
  }
  return chars > MAX_FRAME_CHARS ? `more than ${MAX_FRAME_CHARS} characters in all` : undefined;
};

function checkFields(v: unknown, fields: Fields, skip: string): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  const known = new Set<string>([skip]);
  for (const [spec, check] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const name = optional ? spec.slice(0, -1) : spec;
    known.add(name);
    if (!Object.hasOwn(o, name)) {
      if (optional) continue;
      return `${name}: missing`;
    }
    const bad = check(o[name]);
    if (bad) return `${name}: ${bad}`;
  }
  const extra = Object.keys(o).find((k) => !known.has(k));
  return extra === undefined ? undefined : `${JSON.stringify(extra.slice(0, 40))}: not a field of it`;
}
const object =
  (fields: Fields): Check =>
  (v) =>
    checkFields(v, fields, '');
/** An object whose `key` names which fields it has. */
function tagged(key: string, kinds: Record<string, Fields>): Check {
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
    const kind = (v as Record<string, unknown>)[key];
    if (typeof kind !== 'string') return `${key}: ${kind === undefined ? 'missing' : 'not a string'}`;
    const fields = Object.hasOwn(kinds, kind) ? kinds[kind] : undefined;
    if (!fields) return `${key}: unknown ${JSON.stringify(kind.slice(0, 40))}`;
    return checkFields(v, fields, key);
  };
}

const STEP_FIELDS: Record<AgentStep['op'], Fields> = {
  insmod: { path: text(MAX_TEXT, 1) },
  rmmod: { name: text(MAX_TEXT, 1) },
  filter_glob: { value: text(MAX_TEXT) },
  run: { suite: text(MAX_TEXT, 1) },
  write: { path: text(MAX_TEXT, 1), value: text(MAX_TEXT) },
};
const AGENT_FRAMES: Record<AgentFrame['t'], Fields> = {
  hello: { v: nat(1), boot: text(64, 1), next: nat(1), uptime: seconds, node: text(64) },
  lines: { from: nat(1), lines: lineList },
  sync: {},
  ready: { after: nat(0), 'outcome?': object({ status: int, ms: seconds, 'note?': text(MAX_TEXT), 'missing?': bool }) },
  bye: { last: nat(0), summary: text(MAX_TEXT) },
};
const RUNNER_FRAMES: Record<RunnerFrame['t'], Fields> = {
  welcome: { v: nat(1), have: nat(0) },
  ack: { n: nat(0) },
  step: { id: nat(1), step: tagged('op', STEP_FIELDS) },
  done: {},
  bye: {},
};

export type Decoded<T> = { frame: T; error?: undefined } | { frame?: undefined; error: string };

function decode<T>(data: string, kinds: Record<string, Fields>): Decoded<T> {
  if (data.length > MAX_FRAME_BYTES) return { error: `larger than ${MAX_FRAME_BYTES} bytes` };
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return { error: 'not JSON' };
  }
  const bad = tagged('t', kinds)(v);
  if (bad) {
    const t = typeof v === 'object' && v !== null ? (v as { t?: unknown }).t : undefined;
    return { error: typeof t === 'string' && Object.hasOwn(kinds, t) ? `${t} frame: ${bad}` : `not a frame (${bad})` };
  }
  return { frame: v as T };
}

/** A frame from the agent, checked field by field (the runner's side). */
export const decodeAgentFrame = (data: string): Decoded<AgentFrame> => decode(data, AGENT_FRAMES);
/** A frame from the runner, checked field by field (the agent's side). */
export const decodeRunnerFrame = (data: string): Decoded<RunnerFrame> => decode(data, RUNNER_FRAMES);
