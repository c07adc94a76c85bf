/**
 * Streamed reports (docs/reports.md#streamed-reports) are the same bytes as the
 * reports rendered whole: on every corpus log, `parse` writing JUnit, TAP, JSON
 * and kunit.py JSON suite by suite from the parser's events (no tree kept)
 * equals the same reports fed from the kept tree to their files, equals
 * `render()` (for JUnit: junit-report-builder); with and without locations, and
 * with a hostile run name for the JUnit text writer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { junitReporter } from '../../reporters/junit.js';
import { reporterByName } from '../../reporters/index.js';
import { renderStreamed } from '../../reporters/stream.js';
import { parseCommand } from '../../runner/commands/parse.js';
import type { RunResult } from '../../runner/ktap/model.js';
import { corpus } from '../helpers/corpus.js';
import { tempDir } from '../helpers/cli.js';

const STREAMED = ['junit', 'tap', 'json', 'kunitJson'] as const;
const NAMES = { junit: 'junit', tap: 'tap', json: 'json', kunitJson: 'kunit-json' } as const;

/** The JUnit text writer's output for a whole run (what a file gets, in memory). */
const junitText = (result: RunResult, options = {}): string =>
  renderStreamed((sink) => junitReporter.open!(sink, options, result.groups), result);

describe.each(corpus())('$name', ({ path }) => {
  test('streamed from events = fed from the tree = rendered whole', async () => {
    const dir = tempDir('kunit-bridge-streamed-');
    const files = (tag: string) => Object.fromEntries(STREAMED.map((f) => [f, join(dir, `${tag}.${f}`)]));
    const streamed = await parseCommand({ input: path, quiet: true, reports: { ...files('stream'), junitLocations: true } });
    // A Markdown report needs the whole tree: the others are then fed from it.
    const tree = await parseCommand({
      input: path,
      quiet: true,
      reports: { ...files('tree'), markdown: join(dir, 'r.md'), junitLocations: true },
    });
    expect(streamed.documents.flatMap((d) => d.tests)).toEqual([]);
    expect(streamed.verdict).toBe(tree.verdict);
    for (const f of STREAMED) {
      const whole = reporterByName(NAMES[f])!.render(tree, { junitLocations: true });
      expect(readFileSync(join(dir, `stream.${f}`), 'utf8'), f).toBe(whole);
      expect(readFileSync(join(dir, `tree.${f}`), 'utf8'), f).toBe(whole);
    }
  });
});

test('the JUnit text writer equals junit-report-builder on every corpus log, with and without locations', async () => {
  for (const { path } of corpus()) {
    const tree = await parseCommand({ input: path, quiet: true, reports: { markdown: join(tempDir(), 'r.md') } });
    for (const options of [{}, { junitLocations: true }, { runName: 'odd <&> "run"\tname' }]) {
      expect(junitText(tree, options)).toBe(junitReporter.render(tree, options));
    }
  }
});

test('an indented document that turns out to be a suite: its first tests are its cases, streamed too', async () => {
  const dir = tempDir('kunit-bridge-streamed-');
  const log = join(dir, 'indented.log');
  writeFileSync(log, '    KTAP version 1\n    ok 1 a\n    not ok 2 b\nok 1 suite\n');
  const files = (tag: string) => Object.fromEntries(STREAMED.map((f) => [f, join(dir, `${tag}.${f}`)]));
  await parseCommand({ input: log, quiet: true, reports: files('stream') });
  const tree = await parseCommand({ input: log, quiet: true, reports: { ...files('tree'), markdown: join(dir, 'r.md') } });
  expect(tree.documents[0]!.tests.map((t) => [t.name, t.children.length])).toEqual([['suite', 2]]);
  for (const f of STREAMED) expect(readFileSync(join(dir, `stream.${f}`), 'utf8'), f).toBe(readFileSync(join(dir, `tree.${f}`), 'utf8'));
});
