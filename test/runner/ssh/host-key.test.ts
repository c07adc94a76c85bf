import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decideHostKey } from '../../../runner/ssh/host-key.js';
import { ExitCode } from '../../../runner/exit-codes.js';

function key(dir: string, name: string): Buffer {
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)]);
  return Buffer.from(readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ')[1]!, 'base64');
}

describe('host key decisions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-hk-'));
  const mine = key(dir, 'a');
  const other = key(dir, 'b');

  test('unknown: refused with the fingerprint and what to do; the file is not touched', () => {
    const kh = join(dir, 'none');
    const d = decideHostKey({ knownHosts: kh }, '127.0.0.1', 2222, mine);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error.code).toBe('E_SSH_HOST_UNKNOWN');
    expect(d.error.exitCode).toBe(ExitCode.HOST_KEY_UNKNOWN);
    expect(d.error.message).toContain(d.fingerprint);
    expect(d.error.message).toContain('--accept-new-host-key');
    expect(existsSync(kh)).toBe(false);
  });

  test('accept-new records an unknown key, then knows it; a changed one is still refused', () => {
    const kh = join(dir, 'tofu');
    writeFileSync(kh, '# mine, no newline at the end');
    expect(decideHostKey({ knownHosts: kh, acceptNew: true }, '127.0.0.1', 2222, mine)).toMatchObject({ ok: true, how: 'recorded' });
    expect(readFileSync(kh, 'utf8')).toMatch(/^# mine, no newline at the end\n\[127\.0\.0\.1\]:2222 ssh-ed25519 \S+\n$/);
    expect(decideHostKey({ knownHosts: kh }, '127.0.0.1', 2222, mine)).toMatchObject({ ok: true, how: 'known' });
    const changed = decideHostKey({ knownHosts: kh, acceptNew: true }, '127.0.0.1', 2222, other);
    expect(changed.ok).toBe(false);
    if (!changed.ok) {
      expect(changed.error.code).toBe('E_SSH_HOST_CHANGED');
      expect(changed.error.exitCode).toBe(ExitCode.HOST_KEY_CHANGED);
      expect(changed.error.message).toContain('ssh-keygen -R');
    }
  });

  test('a pinned fingerprint accepts that key only (with or without padding)', () => {
    const fp = decideHostKey({ knownHosts: join(dir, 'x'), acceptNew: true }, 'h', 22, mine).fingerprint;
    expect(decideHostKey({ knownHosts: join(dir, 'none'), pinned: fp }, 'h', 22, mine)).toMatchObject({ ok: true, how: 'pinned' });
    expect(decideHostKey({ knownHosts: join(dir, 'none'), pinned: `${fp}=` }, 'h', 22, mine)).toMatchObject({ ok: true });
    const d = decideHostKey({ knownHosts: join(dir, 'none'), pinned: fp }, 'h', 22, other);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.code).toBe('E_SSH_HOST_CHANGED');
  });
});
