import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parseLog } from '../../runner/ktap/index.js';
import { mergeLanes } from '../../runner/merge.js';
import { kernelFixture } from '../helpers/corpus.js';

const whole = parseLog(readFileSync(kernelFixture('x86_64-rust-kunit', 'boot.log')));
const order = whole.documents[0]!.tests.map((t) => t.name);

/** Split the real boot into two lanes' worth of KTAP, as two filtered boots would print it. */
function lane(names: string[]) {
  const tests = whole.documents[0]!.tests.filter((t) => names.includes(t.name));
  const lines = ['KTAP version 1', `1..${tests.length}`];
  const emit = (t: (typeof tests)[number], indent: string, n: number): void => {
    if (t.children.length > 0) {
      lines.push(`${indent}    KTAP version 1`, `${indent}    # Subtest: ${t.name}`, `${indent}    1..${t.children.length}`);
      t.children.forEach((c, i) => emit(c, `${indent}    `, i + 1));
    }
    lines.push(`${indent}${t.status === 'fail' ? 'not ok' : 'ok'} ${n} ${t.name}${t.status === 'skip' ? ` # SKIP ${t.reason ?? ''}` : ''}`);
  };
  tests.forEach((t, i) => emit(t, '', i + 1));
  return parseLog(lines.join('\n'));
}

test('two lanes merge into the tree and counts of one boot, in boot order', () => {
  const a = order.filter((_, i) => i % 3 === 0);
  const b = order.filter((_, i) => i % 3 !== 0);
  const merged = mergeLanes(
    [
      { lane: 1, result: lane(b) },
      { lane: 0, result: lane(a) },
    ],
    order,
    [a, b],
  );
  expect(merged.documents).toHaveLength(1);
  expect(merged.documents[0]!.tests.map((t) => t.name)).toEqual(order);
  expect(merged.documents[0]!.tests.map((t) => t.number)).toEqual(order.map((_, i) => i + 1));
  expect(merged.counts).toEqual(whole.counts);
  expect(merged.verdict).toBe('failed');
});

test('a suite no lane reported is not-run, never silently lost', () => {
  const merged = mergeLanes([{ lane: 0, result: lane(order.slice(0, 3)) }], order, [order.slice(0, 4)]);
  expect(merged.documents[0]!.tests[3]).toMatchObject({ name: order[3], status: 'not-run' });
  expect(merged.verdict).toBe('incomplete');
  expect(merged.diagnostics.map((d) => d.code)).toEqual(['missing-result']);
});
