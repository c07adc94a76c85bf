import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { jsonReporter, SCHEMA_VERSION } from '../../reporters/json.js';
import { parseLog } from '../../runner/ktap/index.js';
import { kernelFixture } from '../helpers/corpus.js';

test('native JSON carries the whole tree: statuses, durations, locations, crash info, diagnostics', () => {
  const r = parseLog(readFileSync(kernelFixture('x86_64-rust-kunit-v2', 'boot-oops-panic-filtered.log')));
  r.metadata['source'] = 'boot-oops-panic-filtered.log';
  const json = JSON.parse(jsonReporter.render(r));
  expect(json.schemaVersion).toBe(SCHEMA_VERSION);
  expect(json.verdict).toBe('incomplete');
  expect(json.metadata).toEqual({ source: 'boot-oops-panic-filtered.log' });
  const suite = json.documents[0].tests[0];
  expect(suite.name).toBe('kunit_bridge_fixture');
  expect(suite.attributes).toEqual({ module: 'kunit_bridge_fixture' });
  const crashed = suite.tests[1];
  expect(crashed).toMatchObject({ name: 'oops_test', status: 'crashed', log: ['oops_test: writing through a NULL pointer'] });
  expect(crashed.crash.kind).toBe('bug');
  expect(crashed.crash.trace).toContain('Kernel panic - not syncing: Fatal exception');
  expect(crashed.durationMs).toBeGreaterThan(0);
  expect(suite.tests[2]).toMatchObject({ name: '#3', status: 'not-run' });
  expect(json.diagnostics.map((d: { code: string }) => d.code)).toEqual(['crash']);
});

test('Rust doctest locations are in the native JSON', () => {
  const r = parseLog(readFileSync(kernelFixture('x86_64-rust-kunit', 'boot.log')));
  const json = JSON.parse(jsonReporter.render(r));
  const doctests = json.documents[0].tests.find((t: { name: string }) => t.name === 'rust_doctests_kernel');
  expect(doctests.tests).toHaveLength(114);
  expect(doctests.tests.every((t: { location?: { file: string } }) => t.location?.file.startsWith('rust/kernel/'))).toBe(true);
});
