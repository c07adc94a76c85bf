import { describe, expect, test } from 'vitest';
import { END_MARKER, RUN_MARKER, StepPlan, stepScript, syncScript, type PlannedStep } from '../../../runner/ssh/plan.js';
import { shellQuote } from '../../../runner/ssh/remote.js';

const drain = (p: StepPlan): PlannedStep[] => {
  const out: PlannedStep[] = [];
  for (let s = p.next(); s; s = p.next()) out.push(s);
  return out;
};

describe('the step plan', () => {
  test('writes, filter glob, re-runs, modules, repeats, then unloads and the glob put back', () => {
    const plan = new StepPlan({
      writes: [['/proc/sys/kernel/panic_on_oops', '1']],
      reruns: ['example'],
      moduleGlob: 'example',
      restoreGlob: '*',
      modules: [{ path: '/run/kb/list-test.ko', name: 'list_test' }],
      repeat: 3,
    });
    plan.suiteSeen('example');
    plan.suiteSeen('kunit_fault');
    plan.suiteSeen('example');
    const first = [plan.next(), plan.next(), plan.next(), plan.next()];
    // A suite the module ran is seen before the repeats are planned: it is repeated too.
    plan.suiteSeen('list-kunit-test');
    const steps = [...first, ...drain(plan)];
    expect(steps.map((s) => [s!.id, s!.step, s!.attempt])).toEqual([
      [1, { op: 'write', path: '/proc/sys/kernel/panic_on_oops', value: '1' }, undefined],
      [2, { op: 'rerun', suite: 'example' }, undefined],
      [3, { op: 'filter_glob', value: 'example' }, undefined],
      [4, { op: 'insmod', path: '/run/kb/list-test.ko' }, undefined],
      [5, { op: 'run', suite: 'example' }, 2],
      [6, { op: 'run', suite: 'kunit_fault' }, 2],
      [7, { op: 'run', suite: 'list-kunit-test' }, 2],
      [8, { op: 'run', suite: 'example' }, 3],
      [9, { op: 'run', suite: 'kunit_fault' }, 3],
      [10, { op: 'run', suite: 'list-kunit-test' }, 3],
      [11, { op: 'rmmod', name: 'list_test' }, undefined],
      [12, { op: 'filter_glob', value: '*' }, undefined],
    ]);
  });

  test('nothing asked: no steps; a suite without a run file is not tried again', () => {
    expect(drain(new StepPlan({ writes: [], reruns: [], modules: [], repeat: 1 }))).toEqual([]);
    const plan = new StepPlan({ writes: [], reruns: [], modules: [], repeat: 3 });
    plan.suiteSeen('example_init');
    plan.suiteSeen('example');
    const a = plan.next()!;
    expect(a.step).toEqual({ op: 'run', suite: 'example_init' });
    plan.noRunFile('example_init');
    expect(drain(plan).map((s) => [s.step, s.attempt])).toEqual([
      [{ op: 'run', suite: 'example' }, 2],
      [{ op: 'run', suite: 'example' }, 3],
    ]);
  });

  test('the step script writes both markers with the run id, the end one with status, time and output', () => {
    const script = stepScript({ id: 4, step: { op: 'write', path: '/proc/sys/x y', value: "it's" } }, 'ab12cd34');
    expect(script).toContain('echo "<14>kunit-bridge: run ab12cd34 step 4 begin write /proc/sys/x y it\'s" > /dev/kmsg');
    expect(script).toContain(`printf '%s' ${shellQuote("it's")} > '/proc/sys/x y'`);
    expect(script).toMatch(/kunit-bridge: run ab12cd34 step 4 end status=\$s ms=\$ms \$note" > \/dev\/kmsg\nprintf/);
    expect(syncScript(2, 'ab12cd34')).toBe('echo "<14>kunit-bridge: run ab12cd34 sync 2" > /dev/kmsg');
    const m = RUN_MARKER.exec('kunit-bridge: run ab12cd34 step 4 end status=2 ms=40 kunit-bridge-missing: /x does not exist');
    expect(m?.[1]).toBe('ab12cd34');
    expect(END_MARKER.exec(m![2]!)?.slice(1)).toEqual(['4', '2', '40', 'kunit-bridge-missing: /x does not exist']);
  });

  test('shell quoting', () => {
    expect(shellQuote('/run/a.ko')).toBe('/run/a.ko');
    expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`);
    expect(shellQuote('$(reboot)')).toBe(`'$(reboot)'`);
  });
});
