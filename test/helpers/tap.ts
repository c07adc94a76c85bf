/** Read TAP back with tap-parser, nested subtests included. */
import { Parser } from 'tap-parser';
import type { FinalResults, Result } from 'tap-parser';

/** Everything tap-parser saw, from the top parser and every nested subtest parser. */
export interface Parsed {
  top: FinalResults;
  /** Every parser's FinalResults, the top one included, with the subtest's name. */
  finals: Array<{ name: string; level: number; final: FinalResults }>;
  /** Test points in input order, nested ones included. */
  asserts: Array<{ level: number; result: Result }>;
  /** Names announced by `# Subtest:` (the `child` event), in order. */
  children: string[];
  bailout?: string;
}

export function parseTap(tap: string): Promise<Parsed> {
  return new Promise((resolve) => {
    const parsed: Omit<Parsed, 'top'> = { finals: [], asserts: [], children: [] };
    const watch = (p: Parser, level: number): void => {
      p.on('assert', (result: Result) => parsed.asserts.push({ level, result }));
      p.on('child', (child: Parser) => {
        parsed.children.push(child.name);
        watch(child, level + 1);
      });
      p.on('bailout', (reason: string) => {
        parsed.bailout = reason;
      });
      p.on('complete', (final: FinalResults) => {
        parsed.finals.push({ name: p.name, level, final });
        if (level === 0) resolve({ ...parsed, top: final });
      });
    };
    const parser = new Parser();
    watch(parser, 0);
    parser.end(tap);
  });
}

/** Leaf tallies in the words tap-parser uses (closing test points of subtests are not leaves). */
export function leafTally(parsed: Parsed): { total: number; pass: number; fail: number; skip: number; todo: number } {
  const t = { total: 0, pass: 0, fail: 0, skip: 0, todo: 0 };
  for (const { result: r } of parsed.asserts) {
    if (r.closingTestPoint) continue;
    t.total++;
    if (r.skip) t.skip++;
    else if (r.todo) t.todo++;
    else if (r.ok) t.pass++;
    else t.fail++;
  }
  return t;
}

/** What tap-parser should count for our leaf counts: xfail passes, not-run skips, every bad ending fails. */
export function expectedTally(c: {
  total: number;
  passed: number;
  xfail: number;
  failed: number;
  timeout: number;
  errors: number;
  crashed: number;
  incomplete: number;
  skipped: number;
  notRun: number;
  todo: number;
}): ReturnType<typeof leafTally> {
  return {
    total: c.total,
    pass: c.passed + c.xfail,
    fail: c.failed + c.timeout + c.errors + c.crashed + c.incomplete,
    skip: c.skipped + c.notRun,
    todo: c.todo,
  };
}
