import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { KtapStream, type TestNode } from '../../runner/ktap/index.js';
import { ranUntilStopped } from '../../runner/stopped.js';
import { kernelFixture } from '../helpers/corpus.js';

const MESSAGE = 'no KTAP progress for 8 s (--stall-timeout): the kernel hung';

function hung(): { suite: TestNode; hang: TestNode; pass: TestNode; result: ReturnType<KtapStream['finish']> } {
  const stream = new KtapStream();
  stream.write(readFileSync(kernelFixture('x86_64-rust-kunit-v2', 'boot-hang.log')));
  const result = stream.finish({ status: 'timeout', message: MESSAGE });
  const suite = result.documents[0]!.tests.find((t) => t.name === 'kunit_bridge_fixture')!;
  return {
    suite,
    hang: suite.children.find((t) => t.name === 'hang_test')!,
    pass: suite.children.find((t) => t.name === 'pass_test')!,
    result,
  };
}

test('a test the runner stopped ran until it was stopped, and so did its suite; the others keep their times', () => {
  const before = hung();
  const after = hung();
  ranUntilStopped(after.result, MESSAGE, 8000);
  expect(after.hang.status).toBe('timeout');
  expect(after.hang.durationMs).toBeCloseTo(before.hang.durationMs! + 8000, 3);
  expect(after.hang.durationMs).toBeGreaterThan(8000);
  expect(after.suite.durationMs).toBeCloseTo(before.suite.durationMs! + 8000, 3);
  expect(after.pass.durationMs).toBe(before.pass.durationMs);
});

test("a kernel's own # TIMEOUT, another message, or no wait changes nothing", () => {
  const a = hung();
  const d = a.hang.durationMs;
  ranUntilStopped(a.result, 'the run took longer than 60 s (--timeout)', 8000);
  ranUntilStopped(a.result, MESSAGE, 0);
  ranUntilStopped(a.result, MESSAGE, -5);
  expect(a.hang.durationMs).toBe(d);
});
