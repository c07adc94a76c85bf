import { describe, expect, test } from 'vitest';
import { parseLog } from '../../../runner/ktap/index.js';
import { KmsgCursor } from '../../../runner/ssh/kmsg-cursor.js';
import { foldTarget } from '../../../runner/ssh/run-target.js';
import type { TargetSessionResult } from '../../../runner/ssh/session.js';

const suite = (name: string, ok: boolean): string =>
  `KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: ${name}\n    1..1\n    ${ok ? 'ok' : 'not ok'} 1 ${name}_test\n${ok ? 'ok' : 'not ok'} 1 ${name}\n`;
const session = (log: string, extra: Partial<TargetSessionResult> = {}): TargetSessionResult => ({
  result: parseLog(log),
  ending: 'done',
  steps: [],
  cursor: new KmsgCursor(),
  reconnects: 0,
  wallMs: 0,
  foreignDocs: [],
  ...extra,
});
const opts = { repeat: 1, staged: [], refused: new Map<string, string>() };

describe('folding a target session', () => {
  test('a --filter re-run is a document of its own', () => {
    const log =
      `KTAP version 1\n1..2\n${suite('a', true).split('\n').slice(2).join('\n')}` +
      '    KTAP version 1\n    # Subtest: b\n    1..1\n    ok 1 b_test\nok 2 b\n' +
      '    KTAP version 1\n    # Subtest: a\n    1..1\n    ok 1 a_test\nok 1 a\n';
    const s = session(log, { steps: [{ planned: { id: 1, step: { op: 'rerun', suite: 'a' } }, firstDoc: 1, endDoc: 2, status: 0 }] });
    const r = foldTarget(s, opts);
    expect(r.documents.map((d) => [d.origin?.kind, d.tests.map((t) => t.name)])).toEqual([
      ['boot', ['a', 'b']],
      ['rerun', ['a']],
    ]);
  });

  test("earlier runs' documents are left out", () => {
    const r = foldTarget(session(`${suite('a', true)}${suite('old', false)}`, { foreignDocs: [1] }), opts);
    expect(r.documents.map((d) => d.tests[0]!.name)).toEqual(['a']);
    expect(r.verdict).toBe('passed');
  });

  test('a ring that lost the boot: the boot comes from debugfs results', () => {
    // The log holds the tail of the boot's KTAP only; debugfs has both suites' last runs.
    const tail = '    ok 1 b_test\nok 2 b\n';
    const r = foldTarget(session(tail, { bootResults: { text: `${suite('a', true)}${suite('b', false)}`, firstDoc: 1 } }), opts);
    expect(r.documents.map((d) => [d.origin?.kind, d.tests.map((t) => [t.name, t.status])])).toEqual([
      [
        'boot',
        [
          ['a', 'pass'],
          ['b', 'fail'],
        ],
      ],
    ]);
    expect(r.diagnostics.map((d) => d.message).join('\n')).toContain('come from their debugfs results');
    expect(r.verdict).toBe('failed');
  });

  test('the target rebooted during a re-run that printed nothing: its suite is crashed', () => {
    const s = session(suite('a', true), {
      ending: 'rebooted',
      why: 'target rebooted',
      steps: [{ planned: { id: 1, step: { op: 'rerun', suite: 'kunit_fault' } }, firstDoc: 1 }],
    });
    s.current = s.steps[0];
    const r = foldTarget(s, opts);
    expect(r.documents[1]).toMatchObject({
      origin: { kind: 'rerun' },
      tests: [{ name: 'kunit_fault', status: 'crashed', reason: 'target rebooted during kunit_fault' }],
    });
    expect(r.verdict).toBe('incomplete');
  });
});
