/**
 * A plan is a claim, not an allocation: whatever a plan says, the tree holds
 * at most LISTED_NOT_RUN plus one per input line `not-run` placeholders; past
 * that, one placeholder `#a..#b` (with the count) stands for a frame's missing
 * tests. Asserted on node counts and report sizes, never on time.
 */
import { describe, expect, it } from 'vitest';
import { parseLog, type RunResult, type TestNode } from '../../../runner/ktap/index.js';
import { LISTED_NOT_RUN, MAX_DEPTH } from '../../../runner/ktap/tree.js';
import { FILE_REPORTERS } from '../../../reporters/index.js';
import { XML, hostile, nodes } from '../../helpers/hostile.js';

const countNodes = (r: RunResult): number => [...nodes(r)].length;
const names = (tests: TestNode[]): string[] => tests.map((t) => `${t.name}:${t.status}`);
const BOMB = 'KTAP version 1\n1..1000000000';

describe('plan bombs', () => {
  it('KTAP version 1 / 1..1000000000: two nodes, the count reported, every report small', () => {
    const r = hostile(BOMB, XML);
    expect(countNodes(r)).toBe(2);
    const tests = r.documents[0]!.tests;
    expect(names(tests)).toEqual(['#1:incomplete', '#2..#1000000000:not-run']);
    expect(tests[1]!.reason).toBe('999999999 planned tests never reported');
    expect(tests[1]!.number).toBe(2);
    expect(r.documents[0]!.plan).toBe(1_000_000_000);
    expect(r.counts).toMatchObject({ total: 2, incomplete: 1, notRun: 1 });
    expect(r.verdict).toBe('incomplete');
    const d = r.diagnostics.find((x) => x.code === 'plan-unreported');
    expect(d?.message).toContain('(999999999) never reported');
    expect(d?.severity).toBe('warning');
    for (const rep of FILE_REPORTERS) expect(rep.render(r).length, rep.name).toBeLessThan(16 * 1024);
  });

  it('a plan with more digits than a double holds is bounded too', () => {
    const r = hostile(`KTAP version 1\n1..${'9'.repeat(400)}\n`);
    expect(countNodes(r)).toBe(2);
    expect(r.counts.notRun).toBe(1);
  });

  it(`${MAX_DEPTH} nested plans of 1e9: one placeholder per level, not per planned test`, () => {
    const lines = ['KTAP version 1', '1..1000000000'];
    for (let i = 1; i < MAX_DEPTH; i++) lines.push(`${'    '.repeat(i)}# Subtest: s${i}`, `${'    '.repeat(i)}1..1000000000`);
    const r = hostile(`${lines.join('\n')}\nKernel panic - not syncing: boom\n`);
    // Per level: the open suite (or the running #1 at the innermost), and one `#2..` placeholder.
    expect(countNodes(r)).toBe(2 * MAX_DEPTH);
    expect(r.counts.crashed).toBe(1);
    expect(r.counts.notRun).toBe(MAX_DEPTH);
  });

  it('many documents with big plans: the placeholders stay within the budget', () => {
    const docs = 1000;
    const input = 'KTAP version 1\n1..5000\n'.repeat(docs);
    const r = hostile(input);
    expect(r.documents).toHaveLength(docs);
    const lines = 2 * docs;
    const notRun = [...nodes(r)].filter((n) => n.status === 'not-run');
    expect(notRun.filter((n) => !n.name.includes('..')).length).toBeLessThanOrEqual(LISTED_NOT_RUN + lines);
    expect(countNodes(r)).toBeLessThanOrEqual(LISTED_NOT_RUN + lines + 2 * docs);
    // Listed one by one while the budget lasts, then one entry per document.
    expect(names(r.documents[0]!.tests).slice(0, 3)).toEqual(['#1:incomplete', '#2:not-run', '#3:not-run']);
    expect(names(r.documents[docs - 1]!.tests)).toEqual(['#1:incomplete', '#2..#5000:not-run']);
    expect(r.counts.total).toBe(countNodes(r));
  });

  it('ordinary missing tests are still listed one by one, up to the budget', () => {
    const r = parseLog('KTAP version 1\n1..5\nok 1 a\nok 2 b\n');
    expect(names(r.documents[0]!.tests)).toEqual(['a:pass', 'b:pass', '#3:incomplete', '#4:not-run', '#5:not-run']);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['incomplete-output']);
    // 2 lines read: LISTED_NOT_RUN + 2 placeholders are listed (#2 … after the running #1) …
    const atCap = parseLog(`KTAP version 1\n1..${LISTED_NOT_RUN + 3}`);
    expect(atCap.documents[0]!.tests).toHaveLength(LISTED_NOT_RUN + 3);
    expect(atCap.documents[0]!.tests.at(-1)!.name).toBe(`#${LISTED_NOT_RUN + 3}`);
    // … one more, and they are one entry.
    const past = parseLog(`KTAP version 1\n1..${LISTED_NOT_RUN + 4}`);
    expect(names(past.documents[0]!.tests)).toEqual(['#1:incomplete', `#2..#${LISTED_NOT_RUN + 4}:not-run`]);
  });
});
