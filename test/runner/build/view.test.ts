import { expect, test } from 'vitest';
import type { BuildRecord } from '../../../runner/build/record.js';
import { buildView, PLAIN_EVERY_MS, summaryLine } from '../../../runner/build/view.js';

const record = (o: Partial<BuildRecord>): BuildRecord => ({
  source: '/src',
  buildDir: '/src/.kunit',
  arch: 'x86_64',
  image: '/src/.kunit/arch/x86/boot/bzImage',
  started: '2026-12-01T00:00:00.000Z',
  durationMs: 312_000,
  configHash: 'c',
  reconfigured: true,
  makeRun: true,
  objectsCompiled: 1116,
  fragments: [],
  kconfigAdd: [],
  makeOptions: [],
  make: 'make',
  compilers: {},
  ...o,
});

test('the summary says what the build did', () => {
  expect(summaryLine(record({}), 'img', 'log')).toBe('built img in 5:12: 1116 objects compiled, configuration made (log: log)');
  expect(summaryLine(record({ reconfigured: false, objectsCompiled: 0 }), 'img', 'log')).toContain('nothing to recompile');
  expect(summaryLine(record({ reconfigured: false, makeRun: false, objectsCompiled: 0 }), 'img', 'log')).toContain(
    'nothing changed, make not run',
  );
});

const snap = { compiled: 3, steps: 5, current: 'CC a.o', linked: 0 };

test('off a TTY: a plain line at most every 15 s; on a TTY: one line redrawn, cleared before the summary', () => {
  let now = 0;
  const out: string[] = [];
  const plain = buildView({ quiet: false, tty: false, write: (t) => out.push(t), now: () => now });
  now = PLAIN_EVERY_MS;
  plain.onProgress(snap, 1000, undefined);
  now += 1000;
  plain.onProgress(snap, 2000, undefined);
  now += PLAIN_EVERY_MS;
  plain.onProgress(snap, 16_000, 10);
  expect(out).toEqual(['kunit-bridge: [0:01] 3 objects  CC a.o\n', 'kunit-bridge: [0:16] 3/10 objects  CC a.o\n']);

  const tty: string[] = [];
  const v = buildView({ quiet: false, tty: true, write: (t) => tty.push(t), now: () => now });
  now += 1000;
  v.onProgress(snap, 1000, undefined);
  v.finish(record({}), 'img', 'log');
  expect(tty).toEqual([
    '\r\x1b[Kkunit-bridge: [0:01] 3 objects  CC a.o',
    '\r\x1b[K',
    'kunit-bridge: built img in 5:12: 1116 objects compiled, configuration made (log: log)\n',
  ]);
});

test('--quiet: nothing', () => {
  const out: string[] = [];
  const v = buildView({ quiet: true, tty: false, write: (t) => out.push(t), now: () => 1e9 });
  v.onStep('make');
  v.onNote('x');
  v.onProgress(snap, 1, undefined);
  v.finish(record({}), 'img', 'log');
  expect(out).toEqual([]);
});
