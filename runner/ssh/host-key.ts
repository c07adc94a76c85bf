/**
 * Host-key verification for one target: against a known_hosts file or a
 * pinned `SHA256:` fingerprint; an unknown key is refused unless
 * `acceptNew` (trust on first use: it is then appended to the file); a
 * changed or revoked key is always refused. The decision is kept so the
 * connection can say exactly why it was refused.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BridgeError } from '../errors.js';
import { checkHostKey, fingerprint, hostName, keyTypeOf, knownHostsLine, parseKnownHosts } from './known-hosts.js';

export interface HostKeyPolicy {
  /** The known_hosts file (read; appended to with `acceptNew`). */
  knownHosts: string;
  /** A pinned fingerprint, `SHA256:…`: only this key is accepted (known_hosts is then not read). */
  pinned?: string;
  /** Record an unknown key instead of refusing it (never a changed one). */
  acceptNew?: boolean;
}

export type HostKeyDecision =
  | { ok: true; how: 'known' | 'pinned' | 'recorded'; fingerprint: string; keyType: string }
  | { ok: false; error: BridgeError; fingerprint: string; keyType: string };

/** Decide on `key` (wire bytes) offered by host:port. Records a new key when the policy says so. */
export function decideHostKey(policy: HostKeyPolicy, host: string, port: number, key: Buffer): HostKeyDecision {
  const fp = fingerprint(key);
  const keyType = keyTypeOf(key);
  const name = hostName(host, port);
  const refuse = (code: 'E_SSH_HOST_CHANGED' | 'E_SSH_HOST_UNKNOWN', message: string): HostKeyDecision => ({
    ok: false,
    error: new BridgeError(code, message),
    fingerprint: fp,
    keyType,
  });
  if (policy.pinned !== undefined) {
    const want = policy.pinned.replace(/=+$/, '');
    if (fp === want) return { ok: true, how: 'pinned', fingerprint: fp, keyType };
    return refuse(
      'E_SSH_HOST_CHANGED',
      `the host key of ${name} is ${keyType} ${fp}, not the pinned ${want}: refusing to connect (if the target's key really changed, pin the new one with --host-key)`,
    );
  }
  const text = existsSync(policy.knownHosts) ? readFileSync(policy.knownHosts, 'utf8') : '';
  const verdict = checkHostKey(parseKnownHosts(text), host, port, key);
  switch (verdict.kind) {
    case 'known':
      return { ok: true, how: 'known', fingerprint: fp, keyType };
    case 'revoked':
      return refuse(
        'E_SSH_HOST_CHANGED',
        `the host key of ${name} (${keyType} ${fp}) is marked @revoked in ${policy.knownHosts}:${verdict.line}: refusing to connect`,
      );
    case 'changed':
      return refuse(
        'E_SSH_HOST_CHANGED',
        `the host key of ${name} has CHANGED: it offers ${keyType} ${fp}, ${policy.knownHosts}:${verdict.lines.join(',')} lists another; refusing to connect (someone may be in between; if the target was reinstalled, remove the old entry with \`ssh-keygen -R '${name}' -f ${policy.knownHosts}\`)`,
      );
    case 'unknown':
      if (policy.acceptNew) {
        mkdirSync(dirname(policy.knownHosts), { recursive: true });
        const sep = text === '' || text.endsWith('\n') ? '' : '\n';
        appendFileSync(policy.knownHosts, `${sep}${knownHostsLine(host, port, key)}\n`, { mode: 0o600 });
        return { ok: true, how: 'recorded', fingerprint: fp, keyType };
      }
      return refuse(
        'E_SSH_HOST_UNKNOWN',
        `the host key of ${name} is not known: ${keyType} ${fp}; if that is the target's key, run again with --accept-new-host-key (records it in ${policy.knownHosts}) or --host-key ${fp}`,
      );
  }
}
