/**
 * Every corpus log, read back as CI reads our reports: dorny/test-reporter,
 * GitLab and junitparser on the JUnit, tap-parser on the TAP. Each gives the
 * exit code's verdict and our counts, a time everywhere, every test, each
 * crash once (test/helpers/consumers/).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConsoleView } from '../../reporters/console.js';
import { jsonReporter } from '../../reporters/json.js';
import { junitReporter } from '../../reporters/junit.js';
import { tapReporter } from '../../reporters/tap.js';
import { KtapStream, type RunResult, type TestNode } from '../../runner/ktap/index.js';
import { crashOutsideTests, isShownFailing } from '../../runner/ktap/status.js';
import { corpus } from '../helpers/corpus.js';
import { expectJunitAgrees, expectTapAgrees, junitparser, writeJunit } from '../helpers/consumers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kunit-bridge-consumers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  result: RunResult;
  console: string;
  xml: string;
  file: string;
}

const cases: Case[] = corpus().map(({ name, path }) => {
  let out = '';
  const view = new ConsoleView({
    write: (t) => {
      out += t;
    },
  });
  const stream = new KtapStream({ onEvent: (e) => view.onEvent(e) });
  stream.write(readFileSync(path));
  const result = stream.finish();
  result.metadata = { source: name };
  view.finish(result);
  const xml = junitReporter.render(result, { runName: name });
  return { name, result, console: out, xml, file: writeJunit(dir, name, xml) };
});
const jp = junitparser(cases.map((c) => c.file));

describe.each(cases)('$name', ({ result, console: out, xml, file }) => {
  test('dorny, GitLab and junitparser give the verdict, the counts, every test, a time everywhere, the crash once', async () => {
    await expectJunitAgrees(result, xml, jp[file]!);
  });

  test('tap-parser gives the verdict and the counts', async () => {
    await expectTapAgrees(result, tapReporter.render(result));
  });

  test('native JSON: the verdict, the counts, and only a crash no test carries', () => {
    const json = JSON.parse(jsonReporter.render(result)) as { verdict: string; counts: unknown; crash?: unknown };
    expect(json.verdict).toBe(result.verdict);
    expect(json.counts).toEqual(result.counts);
    expect(json.crash).toEqual(crashOutsideTests(result));
  });

  test('console: failures are what fails, and a run that did not pass says so', () => {
    const failures = /^Failures: (.*)$/m.exec(out)?.[1]?.split(', ') ?? [];
    const shown = new Set<string>();
    const walk = (path: string[], n: TestNode): void => {
      if (n.children.length > 0) for (const c of n.children) walk([...path, n.name], c);
      else if (isShownFailing(n.status)) shown.add([...path, n.name].join('.'));
    };
    for (const d of result.documents) for (const t of d.tests) walk([], t);
    expect(new Set(failures)).toEqual(shown);
    if (result.verdict === 'passed' || result.verdict === 'no-ktap') expect(out).not.toContain('Verdict: ');
    else expect(out).toContain(`Verdict: ${result.verdict}: `);
  });
});
