/**
 * One SSH connection to the target (ssh2): host key verified (host-key.ts),
 * key, agent or password authentication, keepalive and a ready timeout so a
 * dead target is noticed in seconds. Every failure becomes one BridgeError
 * with a code that says which it was (docs/errors.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, type AnyAuthMethod, type ConnectConfig } from 'ssh2';
import { BridgeError } from '../errors.js';
import { decideHostKey, type HostKeyDecision, type HostKeyPolicy } from './host-key.js';
import type { SshTarget } from './target-url.js';

/** The only place a password comes from (never a flag, never logged). */
export const PASSWORD_ENV = 'KUNIT_BRIDGE_SSH_PASSWORD';
/** The passphrase of an encrypted `--identity` key. */
export const PASSPHRASE_ENV = 'KUNIT_BRIDGE_SSH_PASSPHRASE';

export interface ConnectOptions {
  target: SshTarget;
  hostKeys: HostKeyPolicy;
  /** Private key files to try, in order (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist). */
  identities?: string[];
  /** The SSH agent's socket (default: SSH_AUTH_SOCK). */
  agentSocket?: string;
  env?: NodeJS.ProcessEnv;
  /** Handshake and login must be done within this (ms, default 10000). */
  readyTimeoutMs?: number;
  /** Keepalive every this long (ms, default 2000); the connection is dead after `keepaliveCountMax` unanswered. */
  keepaliveMs?: number;
  keepaliveCountMax?: number;
}

export interface Connection {
  client: Client;
  hostKey: HostKeyDecision & { ok: true };
  /** Ends when the connection is gone, with why (undefined: we closed it). */
  closed: Promise<string | undefined>;
  close(): void;
}

export function defaultKnownHosts(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

function defaultIdentities(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).filter((p) => existsSync(p));
}

/** The authentication methods to try, in order: keys, then the agent, then a password from the environment. */
function authMethods(opts: ConnectOptions): AnyAuthMethod[] {
  const env = opts.env ?? process.env;
  const username = opts.target.user;
  const methods: AnyAuthMethod[] = [];
  const passphrase = env[PASSPHRASE_ENV];
  for (const file of opts.identities ?? defaultIdentities()) {
    let key: Buffer;
    try {
      key = readFileSync(file);
    } catch (err) {
      throw new BridgeError(
        'E_USAGE',
        `--identity ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      );
    }
    methods.push({ type: 'publickey', username, key, ...(passphrase ? { passphrase } : {}) });
  }
  const agent = opts.agentSocket ?? env['SSH_AUTH_SOCK'];
  if (agent) methods.push({ type: 'agent', username, agent });
  const password = env[PASSWORD_ENV];
  if (password) methods.push({ type: 'password', username, password });
  return methods;
}

function where(t: SshTarget): string {
  return `${t.host}:${t.port}`;
}

/** Open a connection; rejects with a BridgeError (E_SSH_HOST_UNKNOWN, _CHANGED, _AUTH, _UNREACHABLE). */
export function connect(opts: ConnectOptions): Promise<Connection> {
  const { target } = opts;
  const methods = authMethods(opts);
  if (methods.length === 0) {
    return Promise.reject(
      new BridgeError(
        'E_SSH_AUTH',
        `no way to log in to ${target.display}: give --identity FILE, start an SSH agent (SSH_AUTH_SOCK), or set ${PASSWORD_ENV}`,
      ),
    );
  }
  const readyTimeout = opts.readyTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let decision: HostKeyDecision | undefined;
    let ready = false;
    let closing = false;
    let lastError: Error | undefined;
    let settleClosed: (why: string | undefined) => void = () => undefined;
    const closed = new Promise<string | undefined>((r) => {
      settleClosed = r;
    });
    const remaining = [...methods];
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout,
      keepaliveInterval: opts.keepaliveMs ?? 2000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      hostVerifier: (key: Buffer) => {
        decision = decideHostKey(opts.hostKeys, target.host, target.port, key);
        return decision.ok;
      },
      authHandler: (_left, _partial, next) => next((remaining.shift() ?? false) as AnyAuthMethod),
    };
    client.on('ready', () => {
      ready = true;
      resolve({
        client,
        hostKey: decision as HostKeyDecision & { ok: true },
        closed,
        close: () => {
          closing = true;
          client.end();
        },
      });
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      lastError = err;
      if (ready) return; // reported through `closed`
      if (decision && !decision.ok) return reject(decision.error);
      if (err.level === 'client-authentication') {
        return reject(
          new BridgeError(
            'E_SSH_AUTH',
            `${target.display} refused every login offered (${methods.map((m) => m.type).join(', ')}): check --identity, the agent's keys, or ${PASSWORD_ENV}, and the target's authorized_keys`,
          ),
        );
      }
      const why =
        err.level === 'client-timeout'
          ? `no SSH answer within ${readyTimeout / 1000} s`
          : err.code === 'ECONNREFUSED'
            ? 'connection refused'
            : err.message;
      reject(new BridgeError('E_SSH_UNREACHABLE', `cannot reach ${target.display} (${where(target)}): ${why}`, { cause: err }));
    });
    client.on('close', () => {
      if (!ready) {
        if (decision && !decision.ok) reject(decision.error);
        else
          reject(
            new BridgeError(
              'E_SSH_UNREACHABLE',
              `cannot reach ${target.display}: the connection closed during the handshake${lastError ? ` (${lastError.message})` : ''}`,
            ),
          );
      }
      settleClosed(closing ? undefined : (lastError?.message ?? 'the connection closed'));
    });
    client.connect(config);
  });
}
