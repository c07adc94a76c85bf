/**
 * The agent protocol's frame validators (both sides), field by field, and the
 * boot proof.
 */
import { describe, expect, test } from 'vitest';
import {
  MAX_FRAME_BYTES,
  MAX_FRAME_CHARS,
  MAX_FRAME_LINES,
  MAX_LINE_CHARS,
  bootProof,
  bootProofIn,
  bootProofLine,
  clampLine,
  decodeAgentFrame,
  decodeRunnerFrame,
  type AgentFrame,
  type RunnerFrame,
} from '../../agent/protocol.js';

type Obj = Record<string, unknown>;

/** One valid frame of every type, with every optional field. */
const AGENT: Record<AgentFrame['t'], Obj> = {
  hello: { t: 'hello', v: 1, boot: '0f5e2c1a-8d5b-4c43-9a57-1b0e6a1d2f3c', next: 1, uptime: 3.2, node: 'v20.20.2' },
  lines: { t: 'lines', from: 1, lines: ['[    0.000000] Linux version 6.12.117', '    KTAP version 1'] },
  sync: { t: 'sync' },
  ready: { t: 'ready', after: 2, outcome: { status: 1, ms: 184, note: 'insmod: ERROR', missing: true } },
  bye: { t: 'bye', last: 774, summary: 'lines=774 seq=770 lost=0 connects=1 ms=1988' },
};
const RUNNER: Record<RunnerFrame['t'], Obj> = {
  welcome: { t: 'welcome', v: 1, have: 0 },
  ack: { n: 12, t: 'ack' },
  step: { t: 'step', id: 3, step: { op: 'write', path: '/proc/sys/kernel/panic_on_oops', value: '1' } },
  done: { t: 'done' },
  bye: { t: 'bye' },
};

/** Wrong values for a field, by what the field is. */
const NOT_A_STRING = [1, null, true, [], {}, ['x']];
const NOT_A_NATURAL = ['1', 1.5, -1, null, true, [], {}, Number.MAX_SAFE_INTEGER + 2, '0x1'];
const NOT_A_NUMBER = ['3.2', -0.5, null, true, [], {}];

/** Every field and the values it must refuse (besides being missing). */
const AGENT_FIELDS: [AgentFrame['t'], string, unknown[]][] = [
  ['hello', 'v', [0, ...NOT_A_NATURAL]],
  ['hello', 'boot', ['', 'x'.repeat(65), ...NOT_A_STRING]],
  ['hello', 'next', [0, ...NOT_A_NATURAL]],
  ['hello', 'uptime', NOT_A_NUMBER],
  ['hello', 'node', ['x'.repeat(65), ...NOT_A_STRING]],
  ['lines', 'from', [0, ...NOT_A_NATURAL]],
  [
    'lines',
    'lines',
    [
      'x',
      1,
      null,
      {},
      [],
      [1],
      ['ok', null],
      ['ok', ['nested']],
      Array(MAX_FRAME_LINES + 1).fill('l'),
      ['x'.repeat(MAX_LINE_CHARS + 1)],
      Array(MAX_FRAME_CHARS / MAX_LINE_CHARS + 1).fill('x'.repeat(MAX_LINE_CHARS)),
    ],
  ],
  ['ready', 'after', NOT_A_NATURAL],
  [
    'ready',
    'outcome',
    [
      'ok',
      1,
      null,
      [],
      { ms: 1 },
      { status: 0 },
      { status: '0', ms: 1 },
      { status: 1.5, ms: 1 },
      { status: 0, ms: -1 },
      { status: 0, ms: 1, note: 5 },
      { status: 0, ms: 1, missing: 'yes' },
      { status: 0, ms: 1, extra: 1 },
    ],
  ],
  ['bye', 'last', NOT_A_NATURAL],
  ['bye', 'summary', ['x'.repeat(4097), ...NOT_A_STRING]],
];
const RUNNER_FIELDS: [RunnerFrame['t'], string, unknown[]][] = [
  ['welcome', 'v', [0, ...NOT_A_NATURAL]],
  ['welcome', 'have', NOT_A_NATURAL],
  ['ack', 'n', NOT_A_NATURAL],
  ['step', 'id', [0, ...NOT_A_NATURAL]],
  [
    'step',
    'step',
    [
      'insmod',
      null,
      [],
      {},
      { op: 'reboot' },
      { op: 1 },
      { op: 'insmod' },
      { op: 'insmod', path: '' },
      { op: 'insmod', path: 1 },
      { op: 'insmod', path: '/a.ko', name: 'x' },
      { op: 'rmmod', name: '' },
      { op: 'filter_glob', value: 1 },
      { op: 'run', suite: null },
      { op: 'write', path: '/proc/x' },
      { op: 'write', path: '/p', value: 'x'.repeat(4097) },
      { op: 'toString' },
      { op: '__proto__' },
    ],
  ],
];

const json = (v: unknown): string => JSON.stringify(v);

describe('decodeAgentFrame / decodeRunnerFrame: valid frames', () => {
  test.each(Object.entries(AGENT))('agent %s', (_t, f) => {
    expect(decodeAgentFrame(json(f))).toEqual({ frame: f });
  });
  test.each(Object.entries(RUNNER))('runner %s', (_t, f) => {
    expect(decodeRunnerFrame(json(f))).toEqual({ frame: f });
  });

  test('optional fields may be left out; every step op is a step; limits are inclusive', () => {
    expect(decodeAgentFrame(json({ t: 'ready', after: 0 })).frame).toEqual({ t: 'ready', after: 0 });
    expect(decodeAgentFrame(json({ t: 'ready', after: 1, outcome: { status: 0, ms: 0 } })).error).toBeUndefined();
    expect(decodeAgentFrame(json({ ...AGENT.hello, node: '' })).error).toBeUndefined();
    const full = { t: 'lines', from: 9, lines: Array(MAX_FRAME_CHARS / MAX_LINE_CHARS).fill('x'.repeat(MAX_LINE_CHARS)) };
    expect(decodeAgentFrame(json(full)).error).toBeUndefined();
    expect(decodeAgentFrame(json({ t: 'lines', from: 1, lines: Array(MAX_FRAME_LINES).fill('') })).error).toBeUndefined();
    for (const step of [
      { op: 'insmod', path: '/m/a.ko' },
      { op: 'rmmod', name: 'a' },
      { op: 'filter_glob', value: '' },
      { op: 'run', suite: 's' },
      { op: 'write', path: '/p', value: '' },
    ]) {
      expect(decodeRunnerFrame(json({ t: 'step', id: 1, step })).error, step.op).toBeUndefined();
    }
  });
});

describe('decodeAgentFrame / decodeRunnerFrame: refused', () => {
  test.each(AGENT_FIELDS)('agent %s.%s: missing, or each wrong value, names the field', (t, field, bad) => {
    const base = AGENT[t];
    if (!field.endsWith('?') && field !== 'outcome') {
      const { [field]: _gone, ...without } = base;
      expect(decodeAgentFrame(json(without)).error).toBe(`${t} frame: ${field}: missing`);
    }
    for (const v of bad) {
      const error = decodeAgentFrame(json({ ...base, [field]: v })).error;
      expect(error, `${field} = ${json(v).slice(0, 60)}`).toMatch(new RegExp(`^${t} frame: ${field}: `));
    }
  });

  test.each(RUNNER_FIELDS)('runner %s.%s: missing, or each wrong value, names the field', (t, field, bad) => {
    const base = RUNNER[t];
    const { [field]: _gone, ...without } = base;
    expect(decodeRunnerFrame(json(without)).error).toBe(`${t} frame: ${field}: missing`);
    for (const v of bad) {
      const error = decodeRunnerFrame(json({ ...base, [field]: v })).error;
      expect(error, `${field} = ${json(v).slice(0, 60)}`).toMatch(new RegExp(`^${t} frame: ${field}: `));
    }
  });

  test('every field the tables list is checked (the lists above cover every field of every frame)', () => {
    for (const [t, f] of Object.entries(AGENT)) {
      for (const k of Object.keys(f).filter((k) => k !== 't'))
        expect(
          AGENT_FIELDS.some(([ft, fk]) => ft === t && fk === k),
          `${t}.${k}`,
        ).toBe(true);
    }
    for (const [t, f] of Object.entries(RUNNER)) {
      for (const k of Object.keys(f).filter((k) => k !== 't'))
        expect(
          RUNNER_FIELDS.some(([ft, fk]) => ft === t && fk === k),
          `${t}.${k}`,
        ).toBe(true);
    }
  });

  test('a field no frame of that type has', () => {
    expect(decodeAgentFrame(json({ ...AGENT.sync, lines: [] })).error).toBe('sync frame: "lines": not a field of it');
    expect(decodeAgentFrame(json({ ...AGENT.hello, token: 'x' })).error).toBe('hello frame: "token": not a field of it');
    expect(decodeRunnerFrame(json({ ...RUNNER.done, step: {} })).error).toBe('done frame: "step": not a field of it');
  });

  test("not a frame at all: not JSON, not an object, no type, an unknown type, the other side's type, oversize", () => {
    for (const data of ['', 'not json', '{"t":', '\u0000']) expect(decodeAgentFrame(data).error).toBe('not JSON');
    for (const v of [null, 1, 'hello', [], [{ t: 'sync' }], true])
      expect(decodeAgentFrame(json(v)).error, json(v)).toBe('not a frame (not an object)');
    expect(decodeAgentFrame('{"no":"type"}').error).toBe('not a frame (t: missing)');
    expect(decodeAgentFrame('{"t":5}').error).toBe('not a frame (t: not a string)');
    expect(decodeAgentFrame('{"t":"lies"}').error).toBe('not a frame (t: unknown "lies")');
    expect(decodeAgentFrame('{"t":"toString"}').error).toBe('not a frame (t: unknown "toString")');
    expect(decodeAgentFrame('{"t":"__proto__"}').error).toBe('not a frame (t: unknown "__proto__")');
    expect(decodeAgentFrame(json(RUNNER.welcome)).error).toBe('not a frame (t: unknown "welcome")');
    expect(decodeRunnerFrame(json(AGENT.hello)).error).toBe('not a frame (t: unknown "hello")');
    const huge = json({ t: 'lines', from: 1, lines: ['x'.repeat(MAX_FRAME_BYTES)] });
    expect(decodeAgentFrame(huge).error).toBe(`larger than ${MAX_FRAME_BYTES} bytes`);
  });

  test('a prototype-polluting frame is refused and pollutes nothing', () => {
    expect(decodeAgentFrame('{"t":"sync","__proto__":{"polluted":1}}').error).toBe('sync frame: "__proto__": not a field of it');
    expect(({} as Obj)['polluted']).toBeUndefined();
  });
});

describe('the boot proof', () => {
  const boot = '0f5e2c1a-8d5b-4c43-9a57-1b0e6a1d2f3c';

  test('the proof is a sha256 of the boot id; the console line gives it back, wherever it is in the line', () => {
    expect(bootProof(boot)).toMatch(/^[0-9a-f]{64}$/);
    expect(bootProof(boot)).not.toBe(bootProof(`${boot}x`));
    expect(bootProofLine(boot)).not.toContain(boot);
    expect(bootProofIn(bootProofLine(boot))).toBe(bootProof(boot));
    expect(bootProofIn(`[    3.1] noise ${bootProofLine(boot)}\r`)).toBe(bootProof(boot));
  });

  test('no proof in other lines, nor in a cut one', () => {
    expect(bootProofIn('kunit-bridge-agent: connected 1859 ms after start')).toBeUndefined();
    expect(bootProofIn(bootProofLine(boot).slice(0, -1))).toBeUndefined();
    expect(bootProofIn(bootProofLine(boot).toUpperCase())).toBeUndefined();
  });
});

test('clampLine: lines within the limit are untouched, longer ones are cut to it', () => {
  expect(clampLine('x'.repeat(MAX_LINE_CHARS))).toBe('x'.repeat(MAX_LINE_CHARS));
  const cut = clampLine('y'.repeat(MAX_LINE_CHARS * 3));
  expect(cut.length).toBeLessThanOrEqual(MAX_LINE_CHARS);
  expect(cut).toMatch(/^y+ \[line cut by agent\]$/);
  expect(decodeAgentFrame(json({ t: 'lines', from: 1, lines: [cut] })).error).toBeUndefined();
});
