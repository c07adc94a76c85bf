/**
 * `--jobs 2` on x86_64-kunit-all (47 suites, 390 results): two QEMU
 * instances, each given part of the tests by kernel command line filters,
 * merged into exactly the tree of a single boot.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { kernelFixture } from '../helpers/corpus.js';
import { freshCache, runCli, tempDir } from '../helpers/cli.js';
import { shape, type Node } from './expected.js';

interface Json {
  counts: Record<string, number>;
  metadata: Record<string, string>;
  documents: { tests: Node[] }[];
}
const passOrSkip = (c: Record<string, number>): number => (c['passed'] ?? 0) + (c['skipped'] ?? 0);

test('--jobs 2 gives the same tree as one boot, from two lanes', async () => {
  const kernel = kernelFixture('x86_64-kunit-all', 'bzImage');
  const cache = freshCache();
  const one = tempDir();
  const two = tempDir();
  const a = await runCli(['run', '--kernel', kernel, '--accel', 'tcg', '-j', '1', '-o', one, '-q'], { env: { KUNIT_BRIDGE_CACHE: cache } });
  expect(a.code, a.stderr).toBe(0);
  const b = await runCli(['run', '--kernel', kernel, '--accel', 'tcg', '-j', '2', '-o', two, '-q'], { env: { KUNIT_BRIDGE_CACHE: cache } });
  expect(b.code, b.stderr).toBe(0);
  const single = JSON.parse(readFileSync(join(one, 'results.json'), 'utf8')) as Json;
  const sharded = JSON.parse(readFileSync(join(two, 'results.json'), 'utf8')) as Json;
  // The README's expectation: 390 results, 347 passed, 43 skipped.
  expect(single.counts).toMatchObject({ total: 390, passed: 347, skipped: 43, failed: 0 });
  expect(sharded.counts.total).toBe(single.counts.total);
  expect(passOrSkip(sharded.counts)).toBe(passOrSkip(single.counts));
  expect(sharded.counts.failed).toBe(0);
  expect(sharded.metadata['lanes']).toBe('2');
  // The command line recorded is a test boot's (lane 1's), not the listing boot's.
  expect(sharded.metadata['cmdline']).toContain('kunit.filter');
  expect(sharded.metadata['cmdline']).not.toContain('kunit.action=');
  expect(sharded.documents[0]!.tests.map((t) => shape(t))).toEqual(single.documents[0]!.tests.map((t) => shape(t)));
  // Timings from the first run put memcpy (over half the time) in a lane of its own.
  expect(readFileSync(join(two, 'console-lane-01.log'), 'utf8')).toContain('module=memcpy_kunit');
}, 120_000);
