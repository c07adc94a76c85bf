import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KmsgCursor, gapMessage, kmsgCommand } from '../../../runner/ssh/kmsg-cursor.js';
import { REPO } from '../../helpers/corpus.js';

/** The first 300 records of `cat /dev/kmsg` on the v3 guest over ssh, dictionary lines and all. */
const RAW = readFileSync(join(REPO, 'test/fixtures/ssh/kmsg-boot.txt'), 'latin1');
const RECORDS = RAW.split('\n').filter((l) => l !== '' && !l.startsWith(' '));
const seqOf = (raw: string): number => Number(raw.split(',')[1]);

/** What `kmsgCommand(after)` makes the target send: the records after `after`, with their dictionary lines. */
function replayAfter(after: number): string {
  const lines = RAW.split('\n');
  const out: string[] = [];
  let on = after < 0;
  for (const l of lines) {
    if (!l.startsWith(' ') && l !== '') on = seqOf(l) > after;
    if (on && l !== '') out.push(l);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

function collect(c: KmsgCursor, chunk: string, into: string[]): void {
  for (const item of c.push(chunk)) if (item.kind === 'record') into.push(item.raw);
}

describe('the kernel log across cuts', () => {
  test('one stream: every record once, dictionary lines dropped, escapes undone', () => {
    const c = new KmsgCursor();
    c.begin();
    const got: string[] = [];
    const items = c.push(RAW);
    for (const i of items) if (i.kind === 'record') got.push(i.raw);
    expect(got).toEqual(RECORDS);
    expect(c.lastSeq).toBe(seqOf(RECORDS[RECORDS.length - 1]!));
    expect(c.gaps).toEqual([]);
    expect(RAW).toMatch(/^ SUBSYSTEM=/m); // the fixture does have dictionary lines
  });

  test('cut at every byte: nothing lost, nothing twice, whether the target replays all or skips', () => {
    const bytes = RAW.slice(0, 6000); // about 70 records: every cut point, both replays
    const want = RECORDS.filter((r) => bytes.includes(`${r}\n`));
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (const skipOnTarget of [false, true]) {
        const c = new KmsgCursor();
        const got: string[] = [];
        c.begin();
        // The first stream delivers `cut` bytes in two odd chunks, then the connection goes.
        collect(c, bytes.slice(0, cut >> 1), got);
        collect(c, bytes.slice(cut >> 1, cut), got);
        c.end();
        c.begin();
        const replay = skipOnTarget ? replayAfter(c.lastSeq) : RAW;
        const last = want[want.length - 1]!;
        // The second stream runs up to the last wanted record (nothing, if the first one got that far).
        const upTo = replay.indexOf(`${last}\n`);
        if (upTo >= 0) collect(c, replay.slice(0, upTo + last.length + 1), got);
        expect(got, `cut at byte ${cut}`).toEqual(want);
        expect(c.gaps).toEqual([]);
      }
    }
  });

  test('several cuts in one run, chunks of every size', () => {
    const c = new KmsgCursor();
    const got: string[] = [];
    let pos = 0;
    for (const size of [1, 7, 500, 3, 4096, 64, 10_000, 1 << 20]) {
      c.begin();
      const replay = replayAfter(c.lastSeq);
      const n = Math.min(size, replay.length);
      for (let i = 0; i < n; i += 13) collect(c, replay.slice(i, Math.min(n, i + 13)), got);
      c.end();
      pos += n;
    }
    expect(pos).toBeGreaterThan(0);
    expect(got).toEqual(RECORDS);
    expect(c.streams).toBe(8);
  });

  test('an overwritten ring: the gap is reported, with the seqs', () => {
    const c = new KmsgCursor();
    c.begin();
    collect(c, `${RECORDS.slice(0, 10).join('\n')}\n`, []);
    c.end();
    c.begin();
    // The next stream starts at record 50: 10..49 were overwritten while we were away.
    const items = c.push(`${RECORDS.slice(50, 52).join('\n')}\n`);
    expect(items[0]).toEqual({ kind: 'gap', gap: { after: 9, next: 50 } });
    expect(items.filter((i) => i.kind === 'record')).toHaveLength(2);
    expect(gapMessage(c.gaps[0]!)).toBe(
      'kernel log records 10..49 were overwritten in the ring buffer before they could be read (seq 9 -> 50)',
    );
    const fresh = new KmsgCursor();
    fresh.begin();
    expect(fresh.push(`${RECORDS[5]}\n`)[0]).toEqual({ kind: 'gap', gap: { after: -1, next: 5 } });
  });

  test('the stream command: all of it first, then only what is new', () => {
    expect(kmsgCommand(-1)).toBe('exec cat /dev/kmsg');
    expect(kmsgCommand(752)).toContain('-gt 752 ]');
  });
});
