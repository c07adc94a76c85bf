import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { Watchdog } from '../../../runner/session/watchdog.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

test('a timer fires once, after its time', () => {
  const w = new Watchdog();
  const fired = vi.fn();
  w.arm('run', 1000, fired);
  vi.advanceTimersByTime(999);
  expect(fired).not.toHaveBeenCalled();
  vi.advanceTimersByTime(1);
  expect(fired).toHaveBeenCalledTimes(1);
  expect(w.pending()).toEqual([]);
  vi.advanceTimersByTime(10_000);
  expect(fired).toHaveBeenCalledTimes(1);
});

test('re-arming restarts the time (the stall timer on each sign of progress)', () => {
  const w = new Watchdog();
  const stalled = vi.fn();
  w.arm('stall', 1000, stalled);
  vi.advanceTimersByTime(800);
  w.arm('stall', 1000, stalled);
  vi.advanceTimersByTime(800);
  expect(stalled).not.toHaveBeenCalled();
  vi.advanceTimersByTime(200);
  expect(stalled).toHaveBeenCalledTimes(1);
});

test('0 or no time arms nothing', () => {
  const w = new Watchdog();
  const fired = vi.fn();
  w.arm('stall', 0, fired);
  w.arm('run', undefined, fired);
  expect(w.pending()).toEqual([]);
  vi.runAllTimers();
  expect(fired).not.toHaveBeenCalled();
});

test('timers are separate: clearing one leaves the others', () => {
  const w = new Watchdog();
  const run = vi.fn();
  const probe = vi.fn();
  w.arm('run', 1000, run);
  w.arm('kvm-probe', 500, probe);
  w.clear('run');
  expect(w.pending()).toEqual(['kvm-probe']);
  vi.advanceTimersByTime(2000);
  expect(run).not.toHaveBeenCalled();
  expect(probe).toHaveBeenCalledTimes(1);
});

test('stopAll clears every timer, and nothing can be armed after it', () => {
  const w = new Watchdog();
  const fired = vi.fn();
  w.arm('stall', 100, fired);
  w.arm('run', 200, fired);
  w.arm('panic', 300, fired);
  w.stopAll();
  expect(w.pending()).toEqual([]);
  w.arm('stall', 100, fired);
  expect(w.pending()).toEqual([]);
  vi.advanceTimersByTime(1000);
  expect(fired).not.toHaveBeenCalled();
  expect(vi.getTimerCount()).toBe(0);
});
