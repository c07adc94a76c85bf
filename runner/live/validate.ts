/**
 * The live feed's messages checked as a client receives them: one checker per
 * message type of protocol version 1 (the tables of docs/live-protocol.md), so
 * that nothing a feed sends is trusted. Pure; never throws.
 *
 * Accepted format: a WebSocket text message holding one JSON object
 *
 *     {"v":1,"seq":7,"time":1764000000000,"type":"run-end","counts":{…},"verdict":"failed","exitCode":1}
 *
 * A message of an unknown `type` (same `v`) is valid and ignored by clients; an unknown `v`, a
 * missing or mistyped field, or a `run-end` whose `exitCode` is not an integer 0..255 is not.
 */
import type { Counts, TestStatus, Verdict } from '../ktap/model.js';
import { PROTOCOL_VERSION, type LiveMessage } from './protocol.js';

/** The largest message a client accepts (bytes); the server's largest is far below it. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export type Checked =
  /** `message` undefined: a type this version does not know — valid, to be ignored. */
  { ok: true; seq: number; type: string; message: LiveMessage | undefined } | { ok: false; problem: string };

type Check = (x: unknown) => string | undefined;
type Shape = Record<string, Check>;

// Typed as records so that a new status, verdict or count in the model must be added here too.
const STATUSES: Record<TestStatus, true> = {
  pass: true,
  fail: true,
  skip: true,
  todo: true,
  xfail: true,
  timeout: true,
  error: true,
  crashed: true,
  incomplete: true,
  'not-run': true,
  'no-tests': true,
};
const VERDICTS: Record<Verdict, true> = { passed: true, failed: true, incomplete: true, 'no-tests': true, 'no-ktap': true };
const COUNT_KEYS: Record<keyof Counts, true> = {
  total: true,
  passed: true,
  failed: true,
  skipped: true,
  todo: true,
  xfail: true,
  timeout: true,
  errors: true,
  crashed: true,
  incomplete: true,
  notRun: true,
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

const str: Check = (x) => (typeof x === 'string' ? undefined : 'must be a string');
const bool: Check = (x) => (typeof x === 'boolean' ? undefined : 'must be true or false');
const count: Check = (x) => (Number.isSafeInteger(x) && (x as number) >= 0 ? undefined : 'must be an integer ≥ 0');
const positive: Check = (x) => (Number.isSafeInteger(x) && (x as number) >= 1 ? undefined : 'must be an integer ≥ 1');
const finite: Check = (x) => (typeof x === 'number' && Number.isFinite(x) ? undefined : 'must be a number');
const exitCode: Check = (x) =>
  Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255 ? undefined : 'must be an integer 0..255';
const oneOf =
  (set: Record<string, true>, what: string): Check =>
  (x) =>
    typeof x === 'string' && Object.hasOwn(set, x) ? undefined : what;
const strings: Check = (x) => (Array.isArray(x) && x.every((s) => typeof s === 'string') ? undefined : 'must be an array of strings');
const stringMap: Check = (x) =>
  isObject(x) && Object.values(x).every((s) => typeof s === 'string') ? undefined : 'must be an object of strings';

/** An object with these fields (`?` after a name: optional); other fields are allowed and ignored. */
function object(shape: Shape): Check {
  return (x) => {
    if (!isObject(x)) return 'must be an object';
    const inner = fields(x, shape);
    return inner === undefined ? undefined : `is wrong: ${inner}`;
  };
}

function fields(x: Record<string, unknown>, shape: Shape): string | undefined {
  for (const [key, check] of Object.entries(shape)) {
    const optional = key.endsWith('?');
    const name = optional ? key.slice(0, -1) : key;
    const value = x[name];
    if (value === undefined) {
      if (optional) continue;
      return `no "${name}"`;
    }
    const problem = check(value);
    if (problem !== undefined) return `"${name}" ${problem}`;
  }
  return undefined;
}

const counts = object(Object.fromEntries(Object.keys(COUNT_KEYS).map((k) => [k, count])));
const location = object({ file: str, line: count });
const crash = object({ reason: str, kind: str, trace: strings, line: count });
const diagnostic = object({
  code: str,
  message: str,
  line: count,
  'path?': str,
  severity: oneOf({ info: true, warning: true, error: true }, 'must be info, warning or error'),
});
const lane = { lane: count };

/** The fields of each message type, beyond `v`, `seq`, `time` and `type`. */
export const MESSAGE_FIELDS: Record<LiveMessage['type'], Shape> = {
  'run-start': { metadata: stringMap, lanes: count, 'suitesTotal?': count },
  'document-start': { ...lane, document: count },
  plan: { ...lane, path: strings, count },
  'suite-start': { ...lane, path: strings },
  result: {
    ...lane,
    path: strings,
    status: oneOf(STATUSES, 'must be a test status'),
    leaf: bool,
    'durationMs?': finite,
    'reason?': str,
    'log?': strings,
    'location?': location,
    'crash?': crash,
    'counts?': counts,
  },
  log: { ...lane, path: strings, text: str, diagnostic: bool },
  crash: { ...lane, path: strings, crash },
  diagnostic: { ...lane, diagnostic },
  'document-end': { ...lane, document: count, complete: bool },
  'run-end': { counts, verdict: oneOf(VERDICTS, 'must be a verdict'), exitCode, 'outputDir?': str, 'flaky?': strings, 'gate?': strings },
};

const BASE: Shape = { seq: positive, time: finite, type: str };

/** Check one received WebSocket message (`text`: its payload, already known to be a text frame). */
export function checkMessage(text: string): Checked {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, problem: `not JSON: ${JSON.stringify(text.slice(0, 40))}${text.length > 40 ? '…' : ''}` };
  }
  if (!isObject(data))
    return { ok: false, problem: `not a JSON object but ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}` };
  if (data['v'] !== PROTOCOL_VERSION) {
    return {
      ok: false,
      problem: `protocol version ${JSON.stringify(data['v']) ?? 'missing'}, this kunit-bridge speaks ${PROTOCOL_VERSION}`,
    };
  }
  const base = fields(data, BASE);
  if (base !== undefined) return { ok: false, problem: `message ${base}` };
  const type = data['type'] as string;
  const shape = Object.hasOwn(MESSAGE_FIELDS, type) ? MESSAGE_FIELDS[type as LiveMessage['type']] : undefined;
  const seq = data['seq'] as number;
  if (shape === undefined) return { ok: true, seq, type, message: undefined };
  const problem = fields(data, shape);
  if (problem !== undefined) return { ok: false, problem: `${type} message ${seq}: ${problem}` };
  return { ok: true, seq, type, message: data as unknown as LiveMessage };
}
