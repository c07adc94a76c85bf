import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
// @ts-expect-error: a plain .mjs bench module, no types
import { END, START, collectRows, renderTable, replaceSection } from '../../bench/table.mjs';

const meta = {
  date: '2026-12-02 01:00 UTC',
  commit: 'abc1234',
  machine: '2× CPU, Node 20',
  runs: 3,
  loadBefore: '0.10',
  loadAfter: '1.90',
};
const row = { measure: 'parse summary, 1M lines', reference: 'kunit.py 7.3 s', bridge: '0.2 s', ratio: '36x', goal: '>= 50x', met: false };

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

test('a row per measure, the verdict spelled out, pipes escaped', () => {
  const md = renderTable([row, { ...row, measure: 'a | b', met: true }, { ...row, met: null, ratio: undefined }], meta);
  expect(md.startsWith(START)).toBe(true);
  expect(md.trimEnd().endsWith(END)).toBe(true);
  expect(md).toContain('| parse summary, 1M lines | kunit.py 7.3 s | 0.2 s | 36x | >= 50x | **not met** |');
  expect(md).toContain('| a \\| b |');
  expect(md).toContain('| — | >= 50x | — |');
  expect(md).toContain('commit abc1234');
  expect(md).toContain('load average 0.10 before, 1.90 after');
});

test('no rows is said, not an empty table', () => {
  expect(renderTable([], meta)).toContain('no bench script wrote rows');
});

test('the section goes after the first heading once, then is replaced in place', () => {
  const page = '# Benchmarks\n\nHand-written analysis.\n';
  const once = replaceSection(page, renderTable([row], meta));
  expect(once.startsWith('# Benchmarks\n\n<!-- bench:table:start')).toBe(true);
  expect(once).toContain('Hand-written analysis.');
  const twice = replaceSection(once, renderTable([{ ...row, bridge: '0.1 s' }], meta));
  expect(twice.split(START).length).toBe(2);
  expect(twice).toContain('| 0.1 s |');
  expect(twice).not.toContain('| 0.2 s |');
  expect(twice).toContain('Hand-written analysis.');
});

test('rows come from this run only, in the scripts order', () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-table-'));
  writeFileSync(join(dir, 'run-latest.json'), JSON.stringify({ rows: [{ ...row, measure: 'run' }] }));
  writeFileSync(join(dir, 'parse-latest.json'), JSON.stringify({ rows: [{ ...row, measure: 'parse' }] }));
  writeFileSync(join(dir, 'old-latest.json'), JSON.stringify({ rows: [{ ...row, measure: 'old' }] }));
  writeFileSync(join(dir, 'broken-latest.json'), '{');
  utimesSync(join(dir, 'old-latest.json'), new Date(1000), new Date(1000));
  const rows = collectRows(dir, Date.now() - 60_000, ['parse', 'run']);
  expect(rows.map((r: { measure: string }) => r.measure)).toEqual(['parse', 'run']);
  expect(rows[0].source).toBe('parse');
});
