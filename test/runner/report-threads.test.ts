/**
 * Streamed reports on two threads: which reports the worker writes, and, on
 * every corpus log, the same bytes from the worker as from one thread. The
 * worker runs from the build (dist/, made by `npm run build`), as the CLI does;
 * the one-thread side runs from the sources.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { reporterByName } from '../../reporters/index.js';
import type { FileReporter } from '../../reporters/types.js';
import { parseCommand } from '../../runner/commands/parse.js';
import { coreToSpare, split } from '../../runner/report-threads.js';
import { corpus, REPO } from '../helpers/corpus.js';
import { tempDir } from '../helpers/cli.js';

type Parse = typeof parseCommand;
const BUILT = join(REPO, 'dist/runner/commands/parse.js');
const built = async (): Promise<Parse> => ((await import(pathToFileURL(BUILT).href)) as { parseCommand: Parse }).parseCommand;

const STREAMED = ['junit', 'tap', 'json', 'kunitJson'] as const;
const NAMES = { junit: 'junit', tap: 'tap', json: 'json', kunitJson: 'kunit-json' } as const;
const reports = (names: string[]): Array<[FileReporter, string]> => names.map((n) => [reporterByName(n)!, `${n}.out`]);

test('one report stays in this thread; of JUnit, TAP and JSON the worker writes JSON', () => {
  expect(split(reports(['json']))).toEqual([false]);
  expect(split(reports(['junit', 'tap', 'json']))).toEqual([false, false, true]);
  // Every split leaves work on both sides.
  for (const names of [
    ['junit', 'tap'],
    ['junit', 'tap', 'json', 'kunit-json'],
    ['json', 'kunit-json'],
  ]) {
    const s = split(reports(names));
    expect(s.includes(true) && s.includes(false), names.join(',')).toBe(true);
  }
});

test('a second thread only with a core to spare', () => {
  expect(coreToSpare(1, 0)).toBe(false);
  expect(coreToSpare(2, 0.3)).toBe(true);
  expect(coreToSpare(2, 3.5)).toBe(false);
  expect(coreToSpare(8, 3.5)).toBe(true);
});

describe('the worker (built)', () => {
  // `npm test` builds first; without dist/ these tests must fail, not pass on one thread or skip.
  beforeAll(() => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);
  });

  test('the built module does start a worker for JUnit + TAP + JSON (the comparisons below are two threads)', async () => {
    const { streamReports } = (await import(pathToFileURL(join(REPO, 'dist/runner/report-threads.js')).href)) as {
      streamReports: (req: Record<string, string>, worker: boolean) => { constructor: { name: string }; abort(): Promise<void> };
    };
    const dir = tempDir('kunit-bridge-threads-');
    const s = streamReports({ junit: join(dir, 'r.xml'), tap: join(dir, 'r.tap'), json: join(dir, 'r.json') }, true);
    expect(s.constructor.name).toBe('TwoThreads');
    await s.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  test('every corpus log: the reports written on two threads are those written on one', async () => {
    const twoThreads = await built();
    for (const { path, name } of corpus()) {
      const dir = tempDir('kunit-bridge-threads-');
      const files = (tag: string) => Object.fromEntries(STREAMED.map((f) => [f, join(dir, `${tag}.${f}`)]));
      const one = await parseCommand({ input: path, quiet: true, reports: files('one'), reportThreads: false });
      const two = await twoThreads({ input: path, quiet: true, reports: files('two'), reportThreads: true });
      expect(two, name).toEqual(one);
      for (const f of STREAMED) {
        expect(readFileSync(join(dir, `two.${f}`), 'utf8'), `${name} ${NAMES[f]}`).toBe(readFileSync(join(dir, `one.${f}`), 'utf8'));
      }
      expect(readdirSync(dir).sort()).toEqual(STREAMED.flatMap((f) => [`one.${f}`, `two.${f}`]).sort());
    }
  });

  test('a log from a stream, in small chunks: the same reports', async () => {
    const twoThreads = await built();
    const log = corpus().find((c) => c.name.includes('x86_64-rust-kunit'))!.path;
    const text = readFileSync(log);
    const chunks = Array.from({ length: Math.ceil(text.length / 777) }, (_, i) => text.subarray(i * 777, (i + 1) * 777));
    const dir = tempDir('kunit-bridge-threads-');
    const files = (tag: string) => ({ junit: join(dir, `${tag}.xml`), json: join(dir, `${tag}.json`) });
    await parseCommand({ input: '-', stream: Readable.from(chunks), quiet: true, reports: files('one'), reportThreads: false });
    await twoThreads({ input: '-', stream: Readable.from(chunks), quiet: true, reports: files('two'), reportThreads: true });
    for (const ext of ['xml', 'json'])
      expect(readFileSync(join(dir, `two.${ext}`), 'utf8')).toBe(readFileSync(join(dir, `one.${ext}`), 'utf8'));
  });

  test('a report the worker cannot write: the same error as on one thread, the others written', async () => {
    const twoThreads = await built();
    const log = corpus()[0]!.path;
    const dir = tempDir('kunit-bridge-threads-');
    writeFileSync(join(dir, 'file'), '');
    // JSON goes to the worker; its directory is a file.
    const req = (tag: string) => ({ junit: join(dir, `${tag}.xml`), tap: join(dir, `${tag}.tap`), json: join(dir, 'file', `${tag}.json`) });
    const one = await parseCommand({ input: log, quiet: true, reports: req('one'), reportThreads: false }).catch((e: Error) => e);
    const two = await twoThreads({ input: log, quiet: true, reports: req('one'), reportThreads: true }).catch((e: Error) => e);
    expect(one).toBeInstanceOf(Error);
    expect((two as Error & { code: string }).code).toBe('E_REPORT_WRITE');
    expect((two as Error).message).toBe((one as Error).message);
    expect(readdirSync(dir).sort()).toEqual(['file', 'one.tap', 'one.xml']);
  });

  test('a log that cannot be read: nothing left beside the reports', async () => {
    const twoThreads = await built();
    const dir = tempDir('kunit-bridge-threads-');
    const reqs = { junit: join(dir, 'r.xml'), tap: join(dir, 'r.tap'), json: join(dir, 'r.json') };
    await expect(twoThreads({ input: join(dir, 'missing.log'), quiet: true, reports: reqs, reportThreads: true })).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });
});
