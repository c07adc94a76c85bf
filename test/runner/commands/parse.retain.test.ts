/**
 * `parse` with no report keeps no tree (the summary streams from events), whatever
 * report *options* are set: the KCIDB origin always is, by default. A tree kept for
 * nothing was 3.7× the memory on the 1M-line benchmark log. Reports that stream
 * (JUnit, TAP, JSON, kunit.py JSON) are written suite by suite without one either;
 * a report that needs the whole tree (Markdown, KCIDB) keeps it.
 */
import { readFileSync } from 'node:fs';
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

test('streamed reports: no tree kept, the report has every test', async () => {
  const json = join(tempDir(), 'r.json');
  const r = await parseCommand({ input: LOG, quiet: true, reports: { kcidbOrigin: 'kunit_bridge', json } });
  expect(r.documents.flatMap((d) => d.tests)).toEqual([]);
  expect(r.counts.total).toBe(192);
  const written = JSON.parse(readFileSync(json, 'utf8')) as { documents: { tests: unknown[] }[] };
  expect(written.documents.flatMap((d) => d.tests).length).toBeGreaterThan(10);
});

test('a report that needs the whole tree keeps it', async () => {
  const r = await parseCommand({ input: LOG, quiet: true, reports: { kcidbOrigin: 'kunit_bridge', markdown: join(tempDir(), 'r.md') } });
  expect(r.documents.flatMap((d) => d.tests).length).toBeGreaterThan(10);
  expect(r.counts.total).toBe(192);
});
