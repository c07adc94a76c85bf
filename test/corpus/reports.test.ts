/**
 * Every report over every real log of the corpus: JUnit valid against both
 * schemas and free of control characters, TAP read back by tap-parser with
 * our counts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { junitReporter } from '../../reporters/junit.js';
import { tapReporter } from '../../reporters/tap.js';
import { parseLog } from '../../runner/ktap/index.js';
import { corpus, JUNIT_SCHEMAS } from '../helpers/corpus.js';
import { expectedTally, leafTally, parseTap } from '../helpers/tap.js';
import { validate } from '../helpers/xmllint.js';

const dir = mkdtempSync(join(tmpdir(), 'kunit-bridge-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(corpus())('$name', ({ name, path }) => {
  const result = parseLog(readFileSync(path));

  test('JUnit validates against both schemas and has no control characters', () => {
    const xml = junitReporter.render(result, { runName: name });
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u001b]/);
    const file = join(dir, `${name}.xml`);
    writeFileSync(file, xml);
    for (const schema of JUNIT_SCHEMAS) {
      const r = validate(file, schema);
      expect(r.ok, r.output).toBe(true);
    }
  });

  test('TAP read back by tap-parser gives our counts', async () => {
    const parsed = await parseTap(tapReporter.render(result));
    if (result.verdict === 'no-ktap') {
      expect(parsed.bailout).toBeDefined();
      return;
    }
    const c = result.counts;
    expect(leafTally(parsed)).toEqual(expectedTally(c));
  });
});
