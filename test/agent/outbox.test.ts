import { describe, expect, test } from 'vitest';
import { Outbox } from '../../agent/outbox.js';
import { mulberry32 } from '../helpers/prng.js';

const numbered = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `line ${from + i}`);
const shape = (frames: { from: number; lines: string[] }[]): [number, number][] => frames.map((f) => [f.from, f.lines.length]);

describe('Outbox', () => {
  test('lines go out in batches, numbered from 1, each once', () => {
    const box = new Outbox({ batch: 256 });
    box.push(numbered(1, 600));
    const frames = box.take();
    expect(shape(frames)).toEqual([
      [1, 256],
      [257, 256],
      [513, 88],
    ]);
    expect(frames.flatMap((f) => f.lines)).toEqual(numbered(1, 600));
    expect(box.take()).toEqual([]);
    expect(box.last).toBe(600);
    expect(box.inFlight).toBe(600);
    expect(box.drained).toBe(false);
  });

  test('the defaults: 256 lines a frame, 4000 in flight', () => {
    const box = new Outbox();
    box.push(numbered(1, 5000));
    const frames = box.take();
    expect(frames).toHaveLength(16);
    expect(frames.at(-1)).toMatchObject({ from: 3841 });
    expect(frames.at(-1)!.lines).toHaveLength(160);
    expect(box.inFlight).toBe(4000);
  });

  test('at most `window` lines in flight; an ack opens the window again', () => {
    const box = new Outbox({ batch: 256, window: 300 });
    box.push(numbered(1, 1000));
    expect(shape(box.take())).toEqual([
      [1, 256],
      [257, 44],
    ]);
    expect(box.take()).toEqual([]);
    box.ack(100);
    const next = box.take();
    expect(shape(next)).toEqual([[301, 100]]);
    expect(next[0]!.lines[0]).toBe('line 301');
    expect(box.inFlight).toBe(300);
  });

  test('acks are cumulative: stale ones are ignored, one beyond the last line is capped', () => {
    const box = new Outbox({ batch: 10 });
    box.push(numbered(1, 30));
    box.take();
    box.ack(20);
    box.ack(15);
    box.ack(20);
    expect(box.ackedUpTo).toBe(20);
    expect(box.inFlight).toBe(10);
    box.ack(99);
    expect(box.ackedUpTo).toBe(30);
    expect(box.drained).toBe(true);
    // New lines go on numbering from the last one.
    box.push(['late']);
    expect(box.take()).toEqual([{ from: 31, lines: ['late'] }]);
  });

  test('an ack past what this connection sent moves the sending on past it', () => {
    const box = new Outbox({ batch: 10, window: 10 });
    box.push(numbered(1, 30));
    expect(shape(box.take())).toEqual([[1, 10]]);
    box.ack(25);
    expect(box.inFlight).toBe(0);
    expect(box.take()).toEqual([{ from: 26, lines: numbered(26, 5) }]);
  });

  test('resume(have) sends again from have + 1, whatever was sent before', () => {
    const box = new Outbox({ batch: 100 });
    box.push(numbered(1, 300));
    box.take(); // 1..300 sent on the old connection
    box.ack(100);
    box.resume(250); // the runner stored up to 250 but its ack was lost
    expect(box.ackedUpTo).toBe(250);
    expect(box.take()).toEqual([{ from: 251, lines: numbered(251, 50) }]);
  });

  test('resume with what was acked already sends everything unacked again', () => {
    const box = new Outbox({ batch: 100 });
    box.push(numbered(1, 150));
    box.take();
    box.ack(120);
    box.resume(0); // a runner can only say less than it acked if it is another one: acks never go back
    expect(shape(box.take())).toEqual([[121, 30]]);
    box.resume(120);
    expect(box.take()[0]!.lines).toEqual(numbered(121, 30));
  });
});

/**
 * A lossy connection, played out step by step: the agent pushes lines as the kernel logs
 * them and sends what its outbox gives; the runner takes a frame only if it continues what
 * it holds (a gap would close the connection), skips lines it holds already, and acks.
 * Connections die before or after a frame is stored; acks get lost; the agent reconnects and
 * resumes from the runner's `have`.
 */
function simulate(seed: number) {
  const rng = mulberry32(seed);
  const batch = 1 + rng.int(40);
  const window = batch + rng.int(200);
  const total = 500 + rng.int(2000);
  const box = new Outbox({ batch, window });
  const pushed: string[] = [];
  const runner = { have: 0, lines: [] as string[], duplicates: 0, gaps: 0 };
  const stats = { connects: 0, cutBeforeStore: 0, cutAfterStore: 0, acksLost: 0, syncs: 0 };
  type Frame = { from: number; lines: string[] } | 'sync';
  let conn: { toRunner: Frame[]; toAgent: number[] } | undefined;

  for (let tick = 0; tick < 200_000; tick++) {
    if (pushed.length < total && rng.next() < 0.4) {
      const lines = numbered(pushed.length + 1, Math.min(total - pushed.length, 1 + rng.int(25))).map((l) => `${l} seed ${seed}`);
      pushed.push(...lines);
      box.push(lines);
    }
    if (!conn) {
      if (rng.next() < 0.3) {
        // hello → welcome { have }
        conn = { toRunner: [], toAgent: [] };
        stats.connects++;
        box.resume(runner.have);
      }
      continue;
    }
    for (const f of box.take()) {
      if (f.lines.length === 0 || f.lines.length > batch)
        throw new Error(`seed ${seed}: a frame of ${f.lines.length} lines (batch ${batch})`);
      conn.toRunner.push(f);
    }
    if (box.inFlight > window) throw new Error(`seed ${seed}: ${box.inFlight} lines in flight (window ${window})`);
    if (box.inFlight > 0 && rng.next() < 0.05) {
      conn.toRunner.push('sync');
      stats.syncs++;
    }

    // The runner reads some frames.
    while (conn && conn.toRunner.length > 0 && rng.next() < 0.7) {
      const f = conn.toRunner.shift()!;
      if (f !== 'sync') {
        if (f.from > runner.have + 1) {
          runner.gaps++;
          conn = undefined;
          break;
        }
        if (rng.next() < 0.08) {
          stats.cutBeforeStore++;
          conn = undefined;
          break;
        }
        const fresh = f.lines.slice(Math.max(0, runner.have + 1 - f.from));
        runner.duplicates += f.lines.length - fresh.length;
        runner.lines.push(...fresh);
        runner.have += fresh.length;
        if (rng.next() < 0.08) {
          stats.cutAfterStore++;
          conn = undefined;
          break;
        }
      }
      if (rng.next() < 0.2) {
        stats.acksLost++;
        continue;
      }
      conn.toAgent.push(runner.have);
    }
    // The agent reads some acks.
    while (conn && conn.toAgent.length > 0 && rng.next() < 0.7) box.ack(conn.toAgent.shift()!);

    if (pushed.length === total && box.drained) return { pushed, runner, stats, ticks: tick };
  }
  throw new Error(`seed ${seed}: not done after 200000 steps (have ${runner.have} of ${pushed.length}, gaps ${runner.gaps})`);
}

describe('Outbox over a lossy connection', () => {
  for (const seed of [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 0xc0ffee]) {
    test(`seed ${seed}: the runner ends with every line once, in order`, () => {
      const { pushed, runner, stats } = simulate(seed);
      expect(runner.lines).toEqual(pushed);
      expect(runner.have).toBe(pushed.length);
      // Resuming from the runner's `have` means no frame ever leaves a gap or repeats a line.
      expect(runner.gaps).toBe(0);
      expect(runner.duplicates).toBe(0);
      // The faults did happen.
      expect(stats.connects).toBeGreaterThan(3);
      expect(stats.cutBeforeStore).toBeGreaterThan(0);
      expect(stats.cutAfterStore).toBeGreaterThan(0);
      expect(stats.acksLost).toBeGreaterThan(0);
    });
  }

  test('across the seeds, every kind of fault occurred many times', () => {
    const sum = { cutBeforeStore: 0, cutAfterStore: 0, acksLost: 0, syncs: 0 };
    for (let seed = 100; seed < 110; seed++) {
      const { stats } = simulate(seed);
      for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += stats[k];
    }
    for (const v of Object.values(sum)) expect(v).toBeGreaterThan(20);
  });
});

test('maxChars: a frame holds lines up to that many characters, and at least one line', () => {
  const box = new Outbox({ maxChars: 10 });
  box.push(['aaaa', 'bbbb', 'cc', 'dddddddddddddddd', 'e']);
  expect(box.take()).toEqual([
    { from: 1, lines: ['aaaa', 'bbbb', 'cc'] },
    { from: 4, lines: ['dddddddddddddddd'] },
    { from: 5, lines: ['e'] },
  ]);
});
