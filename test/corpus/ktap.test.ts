/**
 * Golden tests over the whole conformance corpus: our native tree, our
 * `--kunit-json` against kunit.py's own output on the same log (equal, except
 * the documented cases in test/golden/kunit-py-deviations.json, which must
 * really differ), and the same events and tree however the input is chunked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KtapStream, KtapParser, countLeaves, emptyCounts, type KtapEvent, type RunResult } from '../../runner/ktap/index.js';
import { jsonReporter } from '../../reporters/json.js';
import { kunitJsonReporter } from '../../reporters/kunit-json.js';
import { corpus, GOLDEN } from '../helpers/corpus.js';
import { expectGolden } from '../helpers/golden.js';
import { mulberry32 } from '../helpers/prng.js';

const deviations = JSON.parse(readFileSync(join(GOLDEN, 'kunit-py-deviations.json'), 'utf8')) as Record<string, string>;
const logs = corpus();

function run(chunks: Iterable<Uint8Array>): { events: string[]; result: RunResult } {
  const events: string[] = [];
  const stream = new KtapStream({ onEvent: (e: KtapEvent) => events.push(JSON.stringify(e)) });
  for (const c of chunks) stream.write(c);
  return { events, result: stream.finish() };
}

function* randomChunks(bytes: Buffer, seed: number, max: number): Generator<Uint8Array> {
  const rnd = mulberry32(seed);
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + rnd.int(max);
    // Copy, so a parser that kept a reference to a chunk would be caught.
    yield Uint8Array.from(bytes.subarray(i, i + n));
    i += n;
  }
}

test('the corpus holds the kunit_tool logs and every fixture boot log', () => {
  expect(logs.filter((l) => l.name.startsWith('kunit_tool--')).length).toBeGreaterThanOrEqual(23);
  expect(logs.filter((l) => /--boot/.test(l.name)).length).toBeGreaterThanOrEqual(11);
});

test('every listed deviation names a corpus log', () => {
  for (const name of Object.keys(deviations)) expect(logs.map((l) => l.name)).toContain(name);
});

describe.each(logs)('$name', ({ name, path }) => {
  const bytes = readFileSync(path);

  test('native JSON matches its golden file, and counts match the tree', () => {
    const { result } = run([bytes]);
    expectGolden(join(GOLDEN, 'native', `${name}.json`), jsonReporter.render(result));
    const leaves = emptyCounts();
    for (const d of result.documents) for (const t of d.tests) countLeaves(t, leaves);
    expect(leaves).toEqual(result.counts);
  });

  test(deviations[name] ? 'kunit-json differs from kunit.py only as documented' : 'kunit-json equals kunit.py parse --json', () => {
    const { result } = run([bytes]);
    const ours = kunitJsonReporter.render(result);
    const theirs = readFileSync(join(GOLDEN, 'kunit-py', `${name}.json`), 'utf8');
    if (deviations[name]) {
      expect(ours).not.toBe(theirs);
      expectGolden(join(GOLDEN, 'kunit-json', `${name}.json`), ours);
    } else {
      expect(ours).toBe(theirs);
    }
  });

  test('same events and tree whole, line by line, byte by byte and in random chunks', () => {
    const whole = run([bytes]);
    const text = bytes.toString('latin1');
    const lines: Uint8Array[] = [];
    for (let i = 0; i < text.length; ) {
      const nl = text.indexOf('\n', i);
      const end = nl === -1 ? text.length : nl + 1;
      lines.push(bytes.subarray(i, end));
      i = end;
    }
    const variants = [run(lines), run(randomChunks(bytes, 1, 7)), run(randomChunks(bytes, 2, 300)), run(randomChunks(bytes, 3, 4096))];
    if (bytes.length < 70_000) variants.push(run(randomChunks(bytes, 4, 1)));
    for (const v of variants) {
      expect(v.events).toEqual(whole.events);
      expect(v.result).toEqual(whole.result);
    }
  });
});

test('a parser fed lines directly gives the same result as the stream', () => {
  const { path } = logs.find((l) => l.name === 'x86_64-rust-kunit--boot')!;
  const text = readFileSync(path, 'utf8');
  const parser = new KtapParser();
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  for (const line of lines) parser.push(line.replace(/\r+$/, ''));
  const { result } = run([Buffer.from(text)]);
  expect(parser.finish()).toEqual(result);
});
