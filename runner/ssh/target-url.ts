/**
 * `--target ssh://[USER@]HOST[:PORT]` → where to connect. Pure.
 * IPv6 literals go in brackets (`ssh://root@[::1]:2222`). No password in the
 * URL: a password comes only from the environment (see connection.ts).
 */
import { BridgeError } from '../errors.js';

export interface SshTarget {
  user: string;
  host: string;
  port: number;
  /** The URL without any secret, for messages and results.json. */
  display: string;
}

/** The target as given, but never a password in it. */
const redact = (target: string): string => target.replace(/^(ssh:\/\/[^@/:]*):[^@/]*@/, '$1:…@');
const bad = (target: string, why: string): BridgeError =>
  new BridgeError('E_USAGE', `--target ${redact(target)}: ${why} (use ssh://[USER@]HOST[:PORT])`);

/** Parse a target URL; `defaultUser` when it names none (default: root, KUnit needs it). */
export function parseTarget(target: string, defaultUser = 'root'): SshTarget {
  const m = /^ssh:\/\/(?:([^@/:\s]+)@)?(\[[0-9a-fA-F:.]+\]|[^@/:\s[\]]+)(?::(\d+))?\/?$/.exec(target);
  if (!m) {
    if (!target.startsWith('ssh://')) throw bad(target, 'not an ssh:// URL');
    if (/^ssh:\/\/[^@/]*:[^@/]*@/.test(target)) throw bad(target, 'no password in the URL: set KUNIT_BRIDGE_SSH_PASSWORD instead');
    throw bad(target, 'cannot read it');
  }
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(target, `port ${m[3]} is out of range`);
  const user = m[1] ?? defaultUser;
  const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
  const shown = host.includes(':') ? `[${host}]` : host;
  return { user, host, port, display: `ssh://${user}@${shown}${port === 22 ? '' : `:${port}`}` };
}
