/** The agent's steps against a fake guest: what each touches, and the outcome and markers it gives. */
import { expect, test } from 'vitest';
import type { AgentStep } from '../../agent/protocol.js';
import {
  FILTER_GLOB,
  beginMarker,
  doneMarker,
  endMarker,
  execute,
  outcomeOf,
  perform,
  type ExecResult,
  type GuestOps,
} from '../../agent/steps.js';

/** A guest whose files are a map; every call is recorded. */
function fakeGuest(
  files: Record<string, string> = {},
  exec: ExecResult = { status: 0, note: '' },
  failWrite?: string,
): { ops: GuestOps; files: Map<string, string>; calls: string[] } {
  const map = new Map(Object.entries(files));
  const calls: string[] = [];
  const ops: GuestOps = {
    exists: (p) => map.has(p),
    writeFile: async (p, d) => {
      calls.push(`write ${p} ${JSON.stringify(d)}`);
      if (failWrite) throw new Error(failWrite);
      map.set(p, d);
    },
    exec: async (cmd, argv) => {
      calls.push(`exec ${cmd} ${argv.join(' ')}`);
      return exec;
    },
  };
  return { ops, files: map, calls };
}

test('insmod runs insmod on the module, and reports its status and output', async () => {
  const g = fakeGuest({ '/m/list-test.ko': '' }, { status: 0, note: '' });
  expect(await perform({ op: 'insmod', path: '/m/list-test.ko' }, g.ops)).toEqual({ status: 0, note: '' });
  expect(g.calls).toEqual(['exec insmod /m/list-test.ko']);
  const bad = fakeGuest({ '/m/x.ko': '' }, { status: 1, note: 'insmod: ERROR: could not insert module /m/x.ko: Invalid module format' });
  expect(await perform({ op: 'insmod', path: '/m/x.ko' }, bad.ops)).toEqual({
    status: 1,
    note: 'insmod: ERROR: could not insert module /m/x.ko: Invalid module format',
  });
});

test('a missing target fails at once with missing: true, and nothing is run or written', async () => {
  const g = fakeGuest();
  expect(await perform({ op: 'insmod', path: '/m/gone.ko' }, g.ops)).toEqual({
    status: 1,
    missing: true,
    note: '/m/gone.ko: no such file in the guest',
  });
  expect(await perform({ op: 'run', suite: 'example_init' }, g.ops)).toEqual({
    status: 1,
    missing: true,
    note: '/sys/kernel/debug/kunit/example_init/run does not exist',
  });
  expect(await perform({ op: 'write', path: '/proc/sys/kernel/nope', value: '1' }, g.ops)).toEqual({
    status: 1,
    missing: true,
    note: '/proc/sys/kernel/nope does not exist',
  });
  expect(g.calls).toEqual([]);
});

test('filter_glob writes the value without a newline; run writes "run\\n" to the suite\'s debugfs file; write writes the value as given', async () => {
  const g = fakeGuest({ '/sys/kernel/debug/kunit/list/run': '', '/proc/sys/kernel/panic_on_oops': '0' });
  const steps: AgentStep[] = [
    { op: 'filter_glob', value: 'list*' },
    { op: 'run', suite: 'list' },
    { op: 'write', path: '/proc/sys/kernel/panic_on_oops', value: '1' },
  ];
  for (const s of steps) expect(await perform(s, g.ops)).toEqual({ status: 0 });
  expect(g.calls).toEqual([
    `write ${FILTER_GLOB} "list*"`,
    'write /sys/kernel/debug/kunit/list/run "run\\n"',
    'write /proc/sys/kernel/panic_on_oops "1"',
  ]);
});

test('rmmod runs rmmod on the name; a write that throws is status 1 with the error as the note', async () => {
  const g = fakeGuest({ '/proc/sys/x': '' }, { status: 0, note: '' }, 'EINVAL: invalid argument, write');
  expect(await perform({ op: 'rmmod', name: 'list_test' }, g.ops)).toEqual({ status: 0, note: '' });
  expect(await perform({ op: 'write', path: '/proc/sys/x', value: 'on' }, g.ops)).toEqual({
    status: 1,
    note: 'EINVAL: invalid argument, write',
  });
  expect(g.calls).toEqual(['exec rmmod list_test', 'write /proc/sys/x "on"']);
});

test('the outcome cuts the note to 700 characters, the end marker to 300 (JSON-quoted); no note, no quote', () => {
  const long = 'x'.repeat(1000);
  const o = outcomeOf({ status: 1, note: long }, 12);
  expect(o).toEqual({ status: 1, note: 'x'.repeat(700), ms: 12 });
  expect(JSON.stringify(o)).toBe(`{"status":1,"note":"${'x'.repeat(700)}","ms":12}`); // key order is the wire's
  expect(endMarker(3, o)).toBe(`step 3 end status=1 ms=12 "${'x'.repeat(300)}"`);
  const ok = outcomeOf({ status: 0 }, 184);
  expect(JSON.stringify(ok)).toBe('{"status":0,"ms":184}');
  expect(endMarker(2, ok)).toBe('step 2 end status=0 ms=184');
  expect(endMarker(5, outcomeOf({ status: 1, missing: true, note: '/sys/kernel/debug/kunit/example_init/run does not exist' }, 0))).toBe(
    'step 5 end status=1 ms=0 "/sys/kernel/debug/kunit/example_init/run does not exist"',
  );
  expect(beginMarker(2, 'insmod /m/list-test.ko')).toBe('step 2 begin insmod /m/list-test.ko');
  expect(doneMarker(4)).toBe('done steps=4');
});

test("execute: a real command's status and output; a missing one is status 1 with the error", async () => {
  expect(await execute('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ status: 3, note: 'out\nerr' });
  expect(await execute('true', [])).toEqual({ status: 0, note: '' });
  const missing = await execute('/nonexistent/insmod', ['x.ko']);
  expect(missing.status).toBe(1);
  expect(missing.note).toMatch(/ENOENT/);
});
