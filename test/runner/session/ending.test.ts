import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { decideEnding, StopRequest } from '../../../runner/session/ending.js';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

test('the first reason to stop wins, and when it came is kept', async () => {
  const stop = new StopRequest();
  expect(stop.at).toBe(0);
  vi.advanceTimersByTime(100);
  stop.stop('stall');
  vi.advanceTimersByTime(100);
  stop.stop('timeout');
  await expect(stop.requested).resolves.toBe('stall');
  expect(stop.at).toBe(1_000_100);
});

test('waited: from the last parser event before the stop to the stop', () => {
  const stop = new StopRequest();
  vi.advanceTimersByTime(300);
  stop.event();
  vi.advanceTimersByTime(5000);
  stop.stop('stall');
  vi.advanceTimersByTime(700);
  stop.event(); // after the stop: not counted
  expect(stop.waitedMs()).toBe(5000);
});

test('an exit without kernel output is a failure: of QEMU, or of KVM when it was probed', () => {
  const failed = { code: 1, signal: null };
  expect(decideEnding('exited', failed, false, false)).toBe('qemu-failed');
  expect(decideEnding('exited', failed, false, true)).toBe('kvm-dead');
  expect(decideEnding('exited', failed, true, false)).toBe('exited');
  expect(decideEnding('exited', { code: 0, signal: null }, false, false)).toBe('exited');
  expect(decideEnding('stall', { code: null, signal: 'SIGTERM' }, false, false)).toBe('stall');
});
