import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  checkHostKey,
  entryMatches,
  fingerprint,
  hostName,
  keyTypeOf,
  knownHostsLine,
  parseKnownHosts,
} from '../../../runner/ssh/known-hosts.js';

/** Two real ed25519 public keys made by ssh-keygen. */
function keygen(): { line: string; key: Buffer; fp: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kb-kh-'));
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'c', '-f', join(dir, 'k')]);
  const line = readFileSync(join(dir, 'k.pub'), 'utf8').trim();
  const fp = spawnSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' }).stdout.split(' ')[1]!;
  return { line, key: Buffer.from(line.split(' ')[1]!, 'base64'), fp };
}
const a = keygen();
const b = keygen();
const typeAndKey = (k: { line: string }): string => k.line.split(' ').slice(0, 2).join(' ');

describe('known_hosts', () => {
  test('plain names, [host]:port, comments, blank and bad lines', () => {
    const entries = parseKnownHosts(
      [
        '# a comment',
        '',
        `board1,192.0.2.7 ${typeAndKey(a)} lab board`,
        `[127.0.0.1]:45622 ${typeAndKey(b)}`,
        'garbage',
        `badkey ssh-ed25519 !!!notbase64`,
      ].join('\n'),
    );
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ hosts: ['board1', '192.0.2.7'], keyType: 'ssh-ed25519', line: 3 });
    expect(checkHostKey(entries, 'board1', 22, a.key)).toEqual({ kind: 'known', line: 3 });
    expect(checkHostKey(entries, '192.0.2.7', 22, a.key)).toEqual({ kind: 'known', line: 3 });
    // The port matters: board1 on 2222 is another name, [127.0.0.1]:45622 is not 127.0.0.1.
    expect(checkHostKey(entries, 'board1', 2222, a.key)).toEqual({ kind: 'unknown' });
    expect(checkHostKey(entries, '127.0.0.1', 45622, b.key)).toEqual({ kind: 'known', line: 4 });
    expect(checkHostKey(entries, '127.0.0.1', 22, b.key)).toEqual({ kind: 'unknown' });
    expect(checkHostKey(entries, '127.0.0.1', 45622, a.key)).toEqual({ kind: 'changed', lines: [4] });
  });

  test('hashed entries as ssh-keygen -H writes them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-kh-'));
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `board1 ${typeAndKey(a)}\n[127.0.0.1]:45622 ${typeAndKey(b)}\n`);
    const r = spawnSync('ssh-keygen', ['-H', '-f', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('board1');
    expect(text).toMatch(/^\|1\|/m);
    const entries = parseKnownHosts(text);
    expect(checkHostKey(entries, 'board1', 22, a.key).kind).toBe('known');
    expect(checkHostKey(entries, '127.0.0.1', 45622, b.key).kind).toBe('known');
    expect(checkHostKey(entries, 'board2', 22, a.key).kind).toBe('unknown');
    expect(checkHostKey(entries, 'board1', 22, b.key).kind).toBe('changed');
  });

  test('patterns and negation', () => {
    const [e] = parseKnownHosts(`*.lab.example,!bad.lab.example,10.0.?.1 ${typeAndKey(a)}`);
    expect(entryMatches(e!, 'b7.lab.example', 22)).toBe(true);
    expect(entryMatches(e!, 'B7.LAB.example', 22)).toBe(true);
    expect(entryMatches(e!, 'bad.lab.example', 22)).toBe(false);
    expect(entryMatches(e!, '10.0.3.1', 22)).toBe(true);
    expect(entryMatches(e!, '10.0.33.1', 22)).toBe(false);
    expect(entryMatches(e!, 'lab.example', 22)).toBe(false);
  });

  test('markers: @revoked refuses the key anywhere, @cert-authority is no host key', () => {
    const entries = parseKnownHosts(
      [
        `@cert-authority *.lab.example ${typeAndKey(b)}`,
        `board1 ${typeAndKey(a)}`,
        `@revoked * ${typeAndKey(a)}`,
        `@bogus board1 ${typeAndKey(b)}`,
      ].join('\n'),
    );
    expect(entries.map((e) => e.marker)).toEqual(['cert-authority', undefined, 'revoked']);
    expect(checkHostKey(entries, 'board1', 22, a.key)).toEqual({ kind: 'revoked', line: 3 });
    expect(checkHostKey(entries, 'x.lab.example', 22, b.key)).toEqual({ kind: 'unknown' });
  });

  test('fingerprints and lines as OpenSSH prints them', () => {
    expect(fingerprint(a.key)).toBe(a.fp);
    expect(keyTypeOf(a.key)).toBe('ssh-ed25519');
    expect(hostName('127.0.0.1', 45622)).toBe('[127.0.0.1]:45622');
    expect(hostName('board1', 22)).toBe('board1');
    expect(knownHostsLine('127.0.0.1', 45622, a.key)).toBe(`[127.0.0.1]:45622 ${typeAndKey(a)}`);
  });
});
