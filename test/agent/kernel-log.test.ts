/** The agent's reader of the kernel log, over a fake /dev/kmsg. */
import { afterEach, expect, test, vi } from 'vitest';
import { KernelLog, MARKER_TIMEOUT_MS } from '../../agent/kernel-log.js';
import { Outbox } from '../../agent/outbox.js';
import { FakeKmsg } from '../helpers/fake-kmsg.js';

afterEach(() => {
  vi.useRealTimers();
});

function reader(): { kmsg: FakeKmsg; outbox: Outbox; log: KernelLog; queued: () => number; lines: () => string[] } {
  const kmsg = new FakeKmsg();
  const outbox = new Outbox();
  let queued = 0;
  const log = new KernelLog(kmsg, outbox, () => {
    queued++;
  });
  return { kmsg, outbox, log, queued: () => queued, lines: () => outbox.take().flatMap((f) => f.lines) };
}

test('every record there is, rendered as console lines (a multi-line printk once per line), then "queued" once', () => {
  const r = reader();
  r.kmsg.printk('KTAP version 1');
  r.kmsg.printk('a\nb');
  r.log.drain();
  expect(r.lines()).toEqual(['[    1.000000] KTAP version 1', '[    1.001234] a', '[    1.001234] b']);
  expect(r.queued()).toBe(1);
  expect(r.log.lastSeq).toBe(1);
  r.log.drain(); // caught up: nothing, no call
  expect(r.queued()).toBe(1);
});

test('overwritten records and a gap in the sequence numbers become lines of their own', () => {
  const r = reader();
  r.kmsg.printk('first');
  r.log.drain();
  r.kmsg.overwrite(5);
  r.kmsg.printk('after');
  r.log.drain();
  expect(r.lines()).toEqual([
    '[    1.000000] first',
    'kunit-bridge-agent: kernel log records lost (overwritten) after seq 0',
    'kunit-bridge-agent: kernel log records lost: seq 0 -> 6',
    '[    1.001234] after',
  ]);
  expect(r.log.lost).toBe(1);
});

test('a marker is written as a user-level info record and resolves once it is read back', async () => {
  const r = reader();
  await r.log.mark('step 1 begin insmod /m/a.ko');
  expect(r.kmsg.written).toEqual(['<14>kunit-bridge: step 1 begin insmod /m/a.ko\n']);
  expect(r.lines()).toEqual(['[    1.000000] kunit-bridge: step 1 begin insmod /m/a.ko']);
});

test(`a marker not read back within ${MARKER_TIMEOUT_MS} ms is reported in the stream and skipped`, async () => {
  vi.useFakeTimers();
  const r = reader();
  r.kmsg.write = (record) => {
    r.kmsg.written.push(record);
  }; // the kernel drops it
  let done = false;
  const seen = r.log.mark('done steps=0').then(() => {
    done = true;
  });
  await vi.advanceTimersByTimeAsync(MARKER_TIMEOUT_MS - 1);
  expect(done).toBe(false);
  await vi.advanceTimersByTimeAsync(1);
  await seen;
  expect(r.lines()).toEqual(['kunit-bridge-agent: marker not seen in the kernel log: kunit-bridge: done steps=0']);
  expect(r.queued()).toBe(1);
});

test('another read error is thrown', () => {
  const r = reader();
  r.kmsg.read = () => {
    throw Object.assign(new Error('EIO'), { code: 'EIO' });
  };
  expect(() => r.log.drain()).toThrow('EIO');
});
