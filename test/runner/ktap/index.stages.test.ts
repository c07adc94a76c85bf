/**
 * The stages of the KTAP core through their public ends: the console filter's
 * document prefix, and KtapStream as the one entry for byte and line transports.
 */
import { describe, expect, test } from 'vitest';
import { KtapStream, parseLog, type KtapEvent } from '../../../runner/ktap/index.js';

const SUITE = ['KTAP version 1', '1..1', '    # Subtest: s', '    1..1', '    ok 1 t', 'ok 1 s'];

describe('console filter: the document prefix', () => {
  test('a document begun inside a prefixed one keeps the prefix of the line that began it', () => {
    // The first document stops short (its plan says 2): the second begins while it is open.
    const first = SUITE.map((l) => (l === '1..1' ? '1..2' : l));
    const r = parseLog(`vm0: boot\n${[...first, ...SUITE].map((l) => `vm0: ${l}`).join('\n')}\n`);
    expect(r.documents.map((d) => d.complete)).toEqual([false, true]);
    expect(r.documents[1]!.tests.map((t) => `${t.name}:${t.status}`)).toEqual(['s:pass']);
    expect(r.counts).toMatchObject({ total: 3, passed: 2, incomplete: 1 });
  });

  test('a line without the prefix inside a prefixed document is foreign: logged, not parsed', () => {
    const r = parseLog(['vm0: KTAP version 1', 'vm0: 1..1', 'not ok 1 echoed', 'vm0: ok 1 real'].join('\n'));
    expect(r.documents[0]!.tests.map((t) => `${t.name}:${t.status}`)).toEqual(['real:pass']);
    expect(r.documents[0]!.tests[0]!.log).toEqual(['not ok 1 echoed']);
  });
});

describe('KtapStream: one entry for every transport', () => {
  const text = `${SUITE.map((l) => `[    1.000000] ${l}`).join('\n')}\n`;

  test('lines fed with line() give what bytes fed with write() give', () => {
    const run = (feed: (s: KtapStream) => void): { events: KtapEvent[]; result: unknown } => {
      const events: KtapEvent[] = [];
      const s = new KtapStream({ onEvent: (e) => events.push(e) });
      feed(s);
      return { events, result: s.finish() };
    };
    const bytes = run((s) => s.write(text));
    const lines = run((s) => {
      for (const l of text.split('\n').slice(0, -1)) s.line(l);
    });
    expect(lines).toEqual(bytes);
  });

  test('onLine sees every split line and keeps from the parser those it declines', () => {
    const seen: string[] = [];
    const s = new KtapStream({
      onLine: (t) => {
        seen.push(t);
        return !t.includes('ok 1 t');
      },
    });
    s.write(text);
    s.end();
    expect(seen).toHaveLength(SUITE.length);
    const r = s.finish();
    expect(r.lines).toBe(SUITE.length - 1);
    expect(r.documents[0]!.tests[0]!.status).toBe('no-tests');
  });

  test('the clock times lines without printk timestamps, for line() as for write()', () => {
    let now = 1000;
    const s = new KtapStream({ clock: () => (now += 500) });
    s.write(`${SUITE.slice(0, 4).join('\n')}\n`);
    s.line('    ok 1 t');
    s.line('ok 1 s');
    const suite = s.finish().documents[0]!.tests[0]!;
    expect(suite.durationMs).toBe(1500); // from its `# Subtest:` line
    expect(suite.children[0]!.durationMs).toBe(1000);
  });
});
