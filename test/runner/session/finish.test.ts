import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { KtapStream } from '../../../runner/ktap/index.js';
import { finishStream } from '../../../runner/session/finish.js';
import { kernelFixture } from '../../helpers/corpus.js';

/** The fixture kernel's boot that hangs in `hang_test`, as far as it got. */
function hungStream(): KtapStream {
  const stream = new KtapStream();
  stream.write(readFileSync(kernelFixture('x86_64-rust-kunit-v2', 'boot-hang.log')));
  return stream;
}

const hangTest = (result: ReturnType<KtapStream['finish']>) =>
  result.documents[0]!.tests.find((t) => t.name === 'kunit_bridge_fixture')!.children.find((t) => t.name === 'hang_test')!;

test('a stall marks the running test timed out, with the stall timeout in the message', () => {
  const result = finishStream(hungStream(), 'stall', { stallTimeoutMs: 8000, timeoutMs: 60_000, waitedMs: 0 });
  const hang = hangTest(result);
  expect(hang.status).toBe('timeout');
  expect(hang.reason).toBe('no KTAP progress for 8 s (--stall-timeout): the kernel hung');
});

test('a whole-run timeout names --timeout, and the stopped test ran until the stop', () => {
  const before = hangTest(finishStream(hungStream(), 'timeout', { timeoutMs: 12_340, waitedMs: 0 }));
  const after = hangTest(finishStream(hungStream(), 'timeout', { timeoutMs: 12_340, waitedMs: 5000 }));
  expect(after.reason).toBe('the run took longer than 12.3 s (--timeout)');
  expect(after.status).toBe('timeout');
  expect(after.durationMs! - (before.durationMs ?? 0)).toBeCloseTo(5000, 3);
});

test('an interrupt leaves the run incomplete; other endings are what the parser saw', () => {
  const interrupted = hangTest(finishStream(hungStream(), 'interrupted', { waitedMs: 5000 }));
  expect(interrupted.status).toBe('incomplete');
  expect(interrupted.reason).toBe('interrupted');
  const exited = finishStream(hungStream(), 'exited', { waitedMs: 5000 });
  expect(hangTest(exited)).toMatchObject({ status: 'incomplete', reason: 'output ended before the test finished' });
  expect(hangTest(exited).durationMs).toBe(hangTest(hungStream().finish()).durationMs);
  expect(exited.counts).toMatchObject({ timeout: 0, incomplete: 1 });
  expect(finishStream(hungStream(), 'panicked', { waitedMs: 5000 }).counts).toEqual(exited.counts);
});
