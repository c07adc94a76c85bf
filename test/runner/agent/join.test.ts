import { describe, expect, test } from 'vitest';
import { printkMicros, StreamJoin, type LineSource } from '../../../runner/agent/join.js';
import { KtapParser, parseLog, type RunResult, type TestNode } from '../../../runner/ktap/index.js';
import { readAgentLines, readConsoleLines, readConsoleText } from '../../helpers/agent-run.js';

const serial = readConsoleLines();
const agent = readAgentLines();
const consoleOnly = parseLog(readConsoleText());

/** What a run's result is made of: per document the tree of names, statuses and plans; the counts; the verdict. */
function project(r: RunResult) {
  const node = (t: TestNode): unknown => ({ name: t.name, status: t.status, plan: t.plan, children: t.children.map(node) });
  return { documents: r.documents.map((d) => d.tests.map(node)), counts: r.counts, verdict: r.verdict };
}

function joinOf(feed: (join: StreamJoin) => void) {
  const fed: { text: string; source: LineSource }[] = [];
  const parser = new KtapParser();
  const join = new StreamJoin((text, info, source) => {
    fed.push({ text, source });
    parser.push(text, info);
  });
  feed(join);
  return { join, fed, texts: fed.map((f) => f.text), result: parser.finish() };
}

/** Only the lines fed (no parse): for the sweeps over every cut point. */
function textsOf(feed: (join: StreamJoin) => void): string[] {
  const texts: string[] = [];
  feed(new StreamJoin((text) => texts.push(text)));
  return texts;
}

/** For each console line that is one of the agent's: its index among the agent's lines (they come in the same order). */
const agentIndexOf = new Map<number, number>();
{
  let j = 0;
  serial.forEach((line, i) => {
    if (printkMicros(line) === undefined || / reboot: /.test(line)) return;
    while (agent[j] !== line) j++;
    agentIndexOf.set(i, j++);
  });
}
const serialIndexOf = new Map([...agentIndexOf].map(([s, a]) => [a, s]));
const agentOnly = new Set(agent.filter((_, i) => !serialIndexOf.has(i)));
const lineWith = (lines: string[], needle: string): number => {
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line with ${needle}`);
  return i;
};

/** Times each text occurs. */
const tally = (lines: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
};
/** No printk line fed more often than either source has it. */
function expectNothingDoubled(texts: string[]): void {
  const s = tally(serial);
  const a = tally(agent);
  const doubled = [...tally(texts)].filter(([t, n]) => printkMicros(t) !== undefined && n > Math.max(s.get(t) ?? 0, a.get(t) ?? 0));
  expect(doubled).toEqual([]);
}

describe('StreamJoin on the recorded run', () => {
  const takeover = lineWith(serial, 'kunit-bridge-init: start');

  test('(a) serial lines only: every one is fed, in order', () => {
    const { join, fed, result } = joinOf((j) => {
      for (const l of serial) j.serial(l);
    });
    expect(fed.map((f) => f.text)).toEqual(serial);
    expect(fed.every((f) => f.source === 'serial')).toBe(true);
    expect(join.fed).toEqual({ serial: serial.length, agent: 0 });
    expect(join.current).toBe('serial');
    expect(project(result)).toEqual(project(consoleOnly));
  });

  test('(b) the console until init starts, then the agent: the same result as the console alone', () => {
    const { join, fed, texts, result } = joinOf((j) => {
      for (const l of serial.slice(0, takeover + 1)) j.serial(l);
      // From now on the console's lines still come (and are ignored) while the agent's arrive.
      agent.forEach((l, i) => {
        j.agent(l);
        if (serial[takeover + 1 + i] !== undefined) j.serial(serial[takeover + 1 + i]!);
      });
    });
    expect(join.current).toBe('agent');
    // The agent's stream goes on right after the console's last printk line: the first marker.
    const lastSerial = agentIndexOf.get(takeover - 1)!;
    expect(texts).toEqual([...serial.slice(0, takeover + 1), ...agent.slice(lastSerial + 1)]);
    expect(fed[takeover + 1]).toEqual({ text: serial[takeover + 5], source: 'agent' }); // after init's and the agent's messages
    expect(serial[takeover + 5]).toContain('kunit-bridge: step 1 begin');
    expect(join.fed).toEqual({ serial: takeover + 1, agent: agent.length - lastSerial - 1 });
    expect(project(result)).toEqual(project(consoleOnly));
    expect(result.documents).toHaveLength(46);
    expectNothingDoubled(texts); // (d)
  });

  test('(c) the agent stops after "step 20 begin": the console replayed from the start fills in the rest', () => {
    const cut = lineWith(agent, 'step 20 begin');
    const { join, texts, result } = joinOf((j) => {
      for (const l of serial.slice(0, takeover + 1)) j.serial(l);
      for (const l of agent.slice(0, cut + 1)) j.agent(l);
      j.switchTo('serial');
      for (const l of serial) j.serial(l);
    });
    expect(join.current).toBe('serial');
    const resumeAt = serialIndexOf.get(cut)! + 1;
    expect(serial[resumeAt]).toMatch(/\] {5}KTAP version 1$/);
    expect(texts).toEqual([
      ...serial.slice(0, takeover + 1),
      ...agent.slice(agentIndexOf.get(takeover - 1)! + 1, cut + 1),
      ...serial.slice(resumeAt),
    ]);
    expect(project(result)).toEqual(project(consoleOnly));
    expectNothingDoubled(texts); // (d)
  });

  test('the agent may stop anywhere: the console goes on right after its last line, nothing lost or doubled', () => {
    const bad: number[] = [];
    for (let cut = 0; cut < agent.length; cut++) {
      const texts = textsOf((j) => {
        for (const l of agent.slice(0, cut + 1)) j.agent(l);
        j.switchTo('serial');
        for (const l of serial) j.serial(l);
      });
      // The console's lines after the last one the agent gave; init's and the agent's messages
      // right there (no printk time) may be left out.
      let last = -1;
      for (let a = cut; a >= 0 && last < 0; a--) last = serialIndexOf.get(a) ?? -1;
      let from = last + 1;
      while (from < serial.length && printkMicros(serial[from]!) === undefined) from++;
      const same = (want: string[]): boolean => texts.length === want.length && texts.every((t, i) => t === want[i]);
      if (!same([...agent.slice(0, cut + 1), ...serial.slice(last + 1)]) && !same([...agent.slice(0, cut + 1), ...serial.slice(from)]))
        bad.push(cut);
    }
    // The hard cut points: inside a run of lines of one printk time, some with the same text
    // (`    KTAP version 1`, `    1..2`, a message repeated), or with KERN_DEBUG records only the agent has.
    expect(bad).toEqual([]);
  });

  test("the agent may take over anywhere: it goes on after the console's last line, nothing lost or doubled", () => {
    const bad: number[] = [];
    for (let cut = 0; cut < serial.length; cut++) {
      const texts = textsOf((j) => {
        for (const l of serial.slice(0, cut + 1)) j.serial(l);
        for (const l of agent) j.agent(l);
      });
      let last = -1;
      for (let s = cut; s >= 0 && last < 0; s--) last = agentIndexOf.get(s) ?? -1;
      const rest = agent.slice(last + 1);
      const head = texts.slice(0, cut + 1);
      const tail = texts.slice(cut + 1);
      // The KERN_DEBUG records of the position's time the console never showed may come first.
      const extra = tail.slice(0, tail.length - rest.length);
      const time = last < 0 ? undefined : printkMicros(agent[last]!);
      const ok =
        tail.length >= rest.length &&
        head.every((t, i) => t === serial[i]) &&
        tail.slice(extra.length).every((t, i) => t === rest[i]) &&
        extra.every((t) => agentOnly.has(t) && printkMicros(t) === time);
      if (!ok) bad.push(cut);
    }
    expect(bad).toEqual([]);
  });

  test("wherever the agent stops in the boot's KTAP, the result is the console's", () => {
    // The boot's suites run within a few jiffies: runs of lines share a printk time there.
    const first = lineWith(agent, '] KTAP version 1');
    const last = lineWith(agent, '] ok 17 kunit_bridge_fixture');
    const cuts = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const differ = cuts.filter((cut) => {
      const { result } = joinOf((j) => {
        for (const l of agent.slice(0, cut + 1)) j.agent(l);
        j.switchTo('serial');
        for (const l of serial) j.serial(l);
      });
      return JSON.stringify(project(result)) !== JSON.stringify(project(consoleOnly));
    });
    expect(differ).toEqual([]);
  });
});

describe('StreamJoin in small', () => {
  test('printkMicros reads the console timestamp as the parser does', () => {
    expect(printkMicros('[    5.028290] kunit-bridge: step 1')).toBe(5_028_290);
    expect(printkMicros('[123456.000001] x')).toBe(123_456_000_001);
    expect(printkMicros('kunit-bridge-init: start')).toBeUndefined();
    // The parser's own printk scanner: a level prefix, and a shorter fraction, read the same way.
    expect(printkMicros('<6>[    1.000000] x')).toBe(1_000_000);
    expect(printkMicros('[ 5.02829] short fraction')).toBe(5_028_290);
    expect(printkMicros('<6>no time')).toBeUndefined();
  });

  test('repeated lines of one time are told apart by their count', () => {
    const same = [
      '[    1.000000]     KTAP version 1',
      '[    1.000000]     1..2',
      '[    1.000000]     KTAP version 1',
      '[    1.000000]     1..2',
    ];
    const { texts } = joinOf((j) => {
      j.agent(same[0]!);
      j.agent(same[1]!);
      j.switchTo('serial');
      for (const l of [...same, '[    1.000004] next']) j.serial(l);
    });
    expect(texts).toEqual([...same, '[    1.000004] next']);
  });

  test('a line the console lacks at the position does not end the catching up early', () => {
    const { texts } = joinOf((j) => {
      j.serial('[    2.000000] a');
      j.serial('[    2.000000] b');
      for (const l of ['[    2.000000] a', '[    2.000000] debug only', '[    2.000000] b', '[    2.000000] c']) j.agent(l);
    });
    expect(texts).toEqual(['[    2.000000] a', '[    2.000000] b', '[    2.000000] debug only', '[    2.000000] c']);
  });

  test('switching to the source in use changes nothing', () => {
    const { texts, join } = joinOf((j) => {
      j.serial('[    1.000000] a');
      j.switchTo('serial');
      j.serial('[    1.000000] a');
      j.agent('[    0.500000] old');
    });
    expect(texts).toEqual(['[    1.000000] a', '[    1.000000] a']);
    expect(join.current).toBe('agent');
  });
});
