/**
 * A streamed report's file: the body through the buffers and the spool, the
 * insertions put in at their marks, multi-byte characters across chunk
 * boundaries, nothing left beside the report (no spool, no temporary file).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { FileSink } from '../../runner/report-file.js';
import { tempDir } from '../helpers/cli.js';

test('insertions go in at their marks, over a body of several MiB with multi-byte characters', () => {
  const dir = tempDir('kunit-bridge-report-file-');
  const path = join(dir, 'sub', 'r.txt');
  const sink = new FileSink(path);
  const expected: string[] = ['HEAD€'];
  const insertions = [{ at: 0, text: 'HEAD€' }];
  for (let i = 0; i < 40_000; i++) {
    const piece = `line ${i} ünïcödé 😀 ${'x'.repeat(i % 300)}\n`;
    sink.write(piece);
    expected.push(piece);
    if (i % 997 === 0) {
      insertions.push({ at: sink.mark(), text: `<${i}>` });
      expected.push(`<${i}>`);
    }
  }
  // A single write bigger than a buffer.
  const big = 'é'.repeat(3 << 20);
  sink.write(big);
  expected.push(big);
  sink.commit(insertions);
  expect(readFileSync(path, 'utf8')).toBe(expected.join(''));
  expect(readdirSync(join(dir, 'sub'))).toEqual(['r.txt']);
});

test('abort leaves nothing; a report that was there stays as it was', () => {
  const dir = tempDir('kunit-bridge-report-file-');
  const path = join(dir, 'r.txt');
  const first = new FileSink(path);
  first.write('old');
  first.commit([]);
  const sink = new FileSink(path);
  sink.write('new');
  sink.abort();
  sink.abort();
  expect(readFileSync(path, 'utf8')).toBe('old');
  expect(readdirSync(dir)).toEqual(['r.txt']);
});

test('parse of a log that cannot be read leaves no spool beside the reports', async () => {
  const { parseCommand } = await import('../../runner/commands/parse.js');
  const dir = tempDir('kunit-bridge-report-file-');
  const reports = { junit: join(dir, 'r.xml'), json: join(dir, 'r.json') };
  await expect(parseCommand({ input: join(dir, 'missing.log'), quiet: true, reports })).rejects.toThrow();
  expect(readdirSync(dir)).toEqual([]);
});

test('insertions at the same place, at the very end and empty ones keep their order', () => {
  const dir = tempDir('kunit-bridge-report-file-');
  const path = join(dir, 'r.txt');
  const sink = new FileSink(path);
  const at0 = sink.mark();
  sink.write('body');
  const end = sink.mark();
  sink.commit([
    { at: at0, text: 'a' },
    { at: at0, text: '' },
    { at: at0, text: 'b' },
    { at: 2, text: 'ü' },
    { at: end, text: 'z' },
    { at: end, text: '' },
  ]);
  expect(readFileSync(path, 'utf8')).toBe('abboüdyz');
  expect(readdirSync(dir)).toEqual(['r.txt']);
});

test('a device gets the body in order, through a spool that is then removed', () => {
  const sink = new FileSink('/dev/null');
  sink.write('x'.repeat(3 << 20));
  sink.commit([{ at: 0, text: 'head' }]);
  expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`.kunit-bridge-null.kb-${process.pid}-`))).toEqual([]);
});
