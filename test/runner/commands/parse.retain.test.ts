/**
 * `parse` with no report keeps no tree (the summary streams from events), whatever
 * report *options* are set: the KCIDB origin always is, by default. A tree kept for
 * nothing was 3.7× the memory on the 1M-line benchmark log.
 */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseCommand } from '../../../runner/commands/parse.js';
import { FIXTURES } from '../../helpers/corpus.js';
import { tempDir } from '../../helpers/cli.js';

const LOG = join(FIXTURES, 'kernels/x86_64-rust-kunit/boot.log');

test('options without a report path: no tree kept, the counts and verdict all the same', async () => {
  const r = await parseCommand({ input: LOG, quiet: true, reports: { kcidbOrigin: 'kunit_bridge', junitLocations: true } });
  expect(r.documents.flatMap((d) => d.tests)).toEqual([]);
  expect(r.verdict).toBe('failed');
  expect(r.counts.total).toBe(192);
});

test('a report path keeps the tree', async () => {
  const r = await parseCommand({ input: LOG, quiet: true, reports: { kcidbOrigin: 'kunit_bridge', json: join(tempDir(), 'r.json') } });
  expect(r.documents.flatMap((d) => d.tests).length).toBeGreaterThan(10);
  expect(r.counts.total).toBe(192);
});
