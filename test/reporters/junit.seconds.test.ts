/**
 * JUnit `time`: the fast `Math.round(ms) / 1000` path gives what
 * `Number((ms / 1000).toFixed(3))` gives, on every microsecond duration the
 * parser makes (runner/ktap/tree.ts rounds to microseconds) up to 20 s, on
 * half milliseconds, and on large and odd values.
 */
import { expect, test } from 'vitest';
import { seconds } from '../../reporters/junit.js';

const slow = (ms: number): number => Number((ms / 1000).toFixed(3));

test('every microsecond up to 20 s, and half milliseconds far beyond', () => {
  const bad: number[] = [];
  for (let us = 0; us <= 20_000_000; us++) {
    const ms = Math.round(us) / 1e3;
    if (seconds(ms) !== slow(ms)) bad.push(ms);
  }
  for (let k = 0; k < 1_000_000; k++) {
    const ms = k * 997 + 0.5;
    if (seconds(ms) !== slow(ms)) bad.push(ms);
  }
  expect(bad).toEqual([]);
});

test('large, tiny, unknown and negative values', () => {
  for (const ms of [1e9 - 0.4, 1e9 + 0.3, 1e12 + 0.7, 2 ** 53, 1e-9, 0.4999999, 0.5000001, 123456.789, Number.MAX_VALUE]) {
    expect(seconds(ms), String(ms)).toBe(slow(ms));
  }
  expect(seconds(undefined)).toBe(0);
  expect(seconds(-1)).toBe(0);
  expect(seconds(Number.NaN)).toBe(0);
  expect(seconds(Number.POSITIVE_INFINITY)).toBe(0);
});
