/**
 * OpenSSH `known_hosts` files, read and matched. Pure (no I/O).
 *
 * Accepted format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), one entry a line:
 *
 *     [@cert-authority|@revoked] HOSTS KEYTYPE BASE64KEY [COMMENT]
 *     example.org,192.0.2.7 ssh-ed25519 AAAAC3Nza…
 *     [127.0.0.1]:45622 ssh-ed25519 AAAAC3Nza…       (a port other than 22)
 *     |1|SALT|HASH ssh-ed25519 AAAAC3Nza…            (HashKnownHosts: HMAC-SHA1 of the name)
 *     *.lab.example,!bad.lab.example ssh-rsa AAAA…   (patterns, negation)
 *
 * Blank lines and `#` comments are skipped. `@cert-authority` lines are
 * certificate authorities (not host keys: kept, but never a match here);
 * a `@revoked` key is refused wherever it appears.
 */
import { createHash, createHmac } from 'node:crypto';

export type Marker = 'cert-authority' | 'revoked';

export interface KnownHost {
  marker?: Marker;
  /** The host patterns, as written (hashed ones stay hashed). */
  hosts: string[];
  keyType: string;
  /** The key's wire bytes. */
  key: Buffer;
  /** 1-based line number. */
  line: number;
}

export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: Marker | undefined;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!.slice(1);
      if (m !== 'cert-authority' && m !== 'revoked') return; // unknown marker: OpenSSH skips the line
      marker = m;
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) return;
    out.push({ ...(marker ? { marker } : {}), hosts: hosts.split(','), keyType, key, line: i + 1 });
  });
  return out;
}

/** The name a host has in known_hosts: `host`, or `[host]:port` when the port is not 22. */
export function hostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's glob: `*` and `?`, case-insensitive. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

/** One pattern against one name: a hashed `|1|salt|hash` or a (possibly wildcard) name. */
function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return globMatch(pattern, name);
}

/** Whether an entry's host list names this host (a matching `!pattern` excludes it). */
export function entryMatches(entry: KnownHost, host: string, port: number): boolean {
  const name = hostName(host, port);
  let matched = false;
  for (const p of entry.hosts) {
    const negated = p.startsWith('!');
    if (patternMatches(negated ? p.slice(1) : p, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export type HostKeyVerdict =
  /** A listed key of this host equals the offered one. */
  | { kind: 'known'; line: number }
  /** The host is listed, with other keys only: the key changed (or this is not the host). */
  | { kind: 'changed'; lines: number[] }
  /** The offered key is revoked. */
  | { kind: 'revoked'; line: number }
  /** The host is not listed. */
  | { kind: 'unknown' };

/** What known_hosts says about `key` offered by `host:port`. */
export function checkHostKey(entries: readonly KnownHost[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const mine = entries.filter((e) => e.marker === undefined && entryMatches(e, host, port));
  const same = mine.find((e) => e.key.equals(key));
  if (same) return { kind: 'known', line: same.line };
  // OpenSSH counts a listed key of another type as "changed" only for the same type; a host
  // offering a type it has no entry for is new to us. Compare by type as it does.
  const type = keyTypeOf(key);
  const clash = mine.filter((e) => e.keyType === type);
  return clash.length > 0 ? { kind: 'changed', lines: clash.map((e) => e.line) } : { kind: 'unknown' };
}

/** The key type named inside a key's wire bytes (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const n = key.readUInt32BE(0);
  return key.subarray(4, 4 + n).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -l` prints it (base64, no padding). */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A known_hosts line for a key (plain name, as `StrictHostKeyChecking=accept-new` writes it). */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hostName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}
