/**
 * The JUnit text writer (reporters/junit-xml.ts, through junitReporter.open) writes
 * the bytes junit-report-builder writes (junitReporter.render), on hostile names,
 * logs, reasons, attributes and metadata, with several documents. The whole
 * corpus: test/corpus/streamed-reports.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { junitReporter } from '../../reporters/junit.js';
import { renderStreamed } from '../../reporters/stream.js';
import type { RunResult } from '../../runner/ktap/model.js';
import { node, sampleResult, WEIRD_NAME } from '../helpers/sample-result.js';

const junitText = (result: RunResult, options = {}): string =>
  renderStreamed((sink) => junitReporter.open!(sink, options, result.groups), result);

describe('the JUnit text writer is junit-report-builder, byte for byte', () => {
  test('hostile names, logs, reasons and metadata; several documents', () => {
    const nasty = `${WEIRD_NAME} ]]> ]]> tab\there cr\rlf\nquote" apos' amp& lt< gt> \ud83d\ude00 lone\ud800 \udc00 \ufffe del\x7f`;
    const result = sampleResult();
    result.metadata['odd'] = nasty;
    result.metadata[nasty] = 'key';
    const doc = result.documents[0]!;
    doc.tests.push(
      node(nasty, 'fail', { log: [nasty, `Expected ${nasty}`], attributes: { [nasty]: nasty } }),
      node('suite', 'pass', {
        children: [
          node(nasty, 'skip', { reason: nasty }),
          node('t', 'error', { reason: nasty, log: [] }),
          node('c', 'crashed', { crash: { reason: nasty, kind: 'oops', trace: [nasty, ''], line: 3 } }),
          node('x', 'xfail', { reason: nasty, log: [nasty] }),
          node('loc', 'fail', { location: { file: nasty, line: 7 }, log: [] }),
        ],
      }),
    );
    result.documents.push({ ...doc, index: 1, tests: [node(nasty, 'pass', { log: [nasty] })] });
    for (const options of [{}, { junitLocations: true }, { runName: nasty }]) {
      expect(junitText(result, options)).toBe(junitReporter.render(result, options));
    }
  });

  test('a run with no test at all: the run suite alone carries the properties', () => {
    const result = sampleResult();
    result.documents = [];
    result.verdict = 'no-ktap';
    expect(junitText(result)).toBe(junitReporter.render(result));
    expect(junitText(result)).toContain('kunit-bridge.verdict');
  });
});
