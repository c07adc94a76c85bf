/**
 * Hostile input, structure level: absurd nesting and the minimal cases fuzzing found.
 */
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH } from '../../../runner/ktap/tree.js';
import { reporterByName } from '../../../reporters/index.js';
import { XML, hostile } from '../../helpers/hostile.js';

describe('hostile input: deep nesting', () => {
  const pad = (level: number): string => '  '.repeat(level);
  /** `depth` levels, each a `KTAP version` + `# Subtest:` + `1..1` one indent deeper. */
  function nested(depth: number): { open: string[]; leaf: string; close: string[] } {
    const open: string[] = ['KTAP version 1', '1..1'];
    for (let i = 1; i <= depth; i++) open.push(`${pad(i)}KTAP version 1`, `${pad(i)}# Subtest: level${i}`, `${pad(i)}1..1`);
    const close: string[] = [];
    for (let i = depth; i >= 1; i--) close.push(`${pad(i - 1)}ok 1 level${i}`);
    return { open, leaf: `${pad(depth + 1)}ok 1 leaf`, close };
  }
  const PANIC = 'Kernel panic - not syncing: Fatal exception';

  // tap-parser is quadratic in the nesting depth (about 3.5 s at 1000 levels,
  // 8-12 s for the longer cut/panic outputs), so at 1000 levels it reads back
  // only the closed tree; the same shapes at 250 levels are read back in full.
  it(`${MAX_DEPTH - 2} levels of # Subtest:, closed: kept exactly`, () => {
    const depth = MAX_DEPTH - 2;
    const { open, leaf, close } = nested(depth);
    const r = hostile([...open, leaf, ...close, ''].join('\n'), { xml: true, tap: true });
    expect(r.verdict).toBe('passed');
    expect(r.counts.total).toBe(1);
    expect(r.diagnostics).toEqual([]);
    let depthSeen = 0;
    for (let n = r.documents[0]!.tests[0]; n; n = n.children[0]) depthSeen++;
    expect(depthSeen).toBe(depth + 1);
  });

  for (const [depth, tap] of [
    [1000, true],
    [250, true],
  ] as const) {
    const { open, leaf, close } = nested(depth);

    it(`${depth} levels of # Subtest:, closed: capped at ${MAX_DEPTH} with a diagnostic, nothing thrown`, () => {
      const r = hostile([...open, leaf, ...close, ''].join('\n'), { xml: true, tap });
      expect(r.diagnostics.map((d) => d.code)).toContain('too-deep');
      let depthSeen = 0;
      for (let n = r.documents[0]!.tests[0]; n; n = n.children[0]) depthSeen++;
      expect(depthSeen).toBeLessThanOrEqual(MAX_DEPTH);
    });
  }

  for (const [depth, tap] of [
    [1000, false],
    [250, true],
  ] as const) {
    const { open } = nested(depth);

    it(`${depth} levels of # Subtest:, cut short`, () => {
      const r = hostile([...open, ''].join('\n'), { xml: depth === 1000, tap });
      expect(r.verdict).toBe('incomplete');
      expect(r.counts.incomplete + r.counts.notRun).toBeGreaterThan(0);
    });

    it(`${depth} levels of # Subtest:, then a panic`, () => {
      const r = hostile([...open, `${pad(depth + 1)}${PANIC}`, ''].join('\n'), { tap });
      expect(r.verdict).toBe('incomplete');
      expect(r.counts.crashed).toBeGreaterThan(0);
    });
  }

  it('3000 plan lines of saw-tooth indentation (0..499), no headers', () => {
    const lines: string[] = ['KTAP version 1'];
    for (let i = 0; i < 3000; i++) lines.push(`${' '.repeat(i % 500)}1..1`);
    hostile(lines.join('\n'), { tap: false });
  });

  it('4000 levels from plan lines alone (4000 lines, 8 MB): every reporter still renders', () => {
    // Each line one space deeper opens one more level: depth grows with the
    // square root of the input size, with no header lines at all.
    const lines: string[] = ['KTAP version 1'];
    for (let i = 1; i <= 4000; i++) lines.push(`${' '.repeat(i)}1..1`);
    const r = hostile(lines.join('\n'), { tap: false });
    expect(r.verdict).toBe('incomplete');
  });
});

describe('hostile input: minimal cases found by fuzzing', () => {
  // A suite whose result line is lost fills the document's plan when the next
  // shallower line closes it; that line must not then find the stack empty.
  const suiteWithoutResult = 'KTAP version 1\n1..1\n    # Subtest: a\n    1..1\n    ok 1 t\n';
  it.each([
    ['a top-level plan after a suite with no result line', `${suiteWithoutResult}1..1\n`],
    ['a top-level # Subtest: after a suite with no result line', `${suiteWithoutResult}# Subtest: b\n`],
    ['a plan-only frame, then a shallower plan', 'KTAP version 1\n1..1\n  1..1\n1..1\n'],
    ['a plan shallower than an indented header, then a result', '    KTAP version 1\n  1..1\n  # Subtest: s\nok 1 t\n'],
  ])('%s', (_name, input) => {
    hostile(input, XML);
  });
});

it('reporterByName knows every file reporter used here', () => {
  for (const name of ['junit', 'tap', 'json', 'kunit-json']) expect(reporterByName(name), name).toBeDefined();
});
