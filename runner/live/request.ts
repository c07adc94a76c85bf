/**
 * What the live server accepts, decided without I/O: the request target, the
 * `Host` and `Origin` headers, and `from=`. Every function takes raw client
 * input and answers with a value or a refusal — none of them throws.
 *
 * Accepted format (docs/live-protocol.md):
 *
 *     GET /feed?from=42&token=T HTTP/1.1      origin-form only: `//x`, `http://x/…`, `*` are refused
 *     Host: 127.0.0.1:8080                    a loopback name, the bound address, or (bound beyond
 *                                             loopback) this machine's name or one of its addresses
 *     Origin: http://127.0.0.1:8080           absent (not a browser), or the page's own origin
 */
import { hostname as osHostname, networkInterfaces } from 'node:os';

/** A refusal: the HTTP status line and a one-line reason for the body. */
export interface Refusal {
  status: number;
  reason: string;
}

export interface Target {
  pathname: string;
  params: URLSearchParams;
}

/** Longest request target looked at (longer: 414). Node's own header limit (16 KiB) bounds it anyway. */
export const MAX_TARGET = 8192;

/** Parse an origin-form request target (`/path?query`). */
export function parseTarget(raw: string | undefined): Target | Refusal {
  if (raw === undefined || raw.length === 0) return { status: 400, reason: 'no request target' };
  if (raw.length > MAX_TARGET) return { status: 414, reason: 'request target too long' };
  // `//host/…` and `/\host` would be read as another authority, `http://…` is for proxies.
  if (raw[0] !== '/' || raw[1] === '/' || raw[1] === '\\') return { status: 400, reason: 'the request target must be a path (/…)' };
  try {
    const url = new URL(raw, 'http://live.invalid');
    if (url.host !== 'live.invalid') return { status: 400, reason: 'the request target must be a path (/…)' };
    return { pathname: url.pathname, params: url.searchParams };
  } catch {
    return { status: 400, reason: 'unparsable request target' };
  }
}

export const isRefusal = (x: object): x is Refusal => 'status' in x;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';

/** The name part of a Host header value (`name`, `name:port`, `[v6]`, `[v6]:port`), lowercased; undefined if malformed. */
export function hostName(header: string): string | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '');
}

/**
 * The names a request may give in `Host`, for a server bound to `bound`: the loopback names, the
 * bound address, and — bound beyond loopback — this machine's addresses and name (short or
 * qualified: `box`, `box.example.org`). Any other name is a page reached by DNS rebinding.
 */
export class HostPolicy {
  private readonly exact = new Set<string>(['localhost', '::1']);
  private readonly machine: string | undefined = undefined;

  constructor(bound: string, machine: { hostname?: string; addresses?: string[] } = {}) {
    if (!isWildcard(bound)) this.exact.add(bound.toLowerCase());
    if (isLoopback(bound)) return;
    const addresses =
      machine.addresses ??
      Object.values(networkInterfaces())
        .flat()
        .map((i) => i?.address ?? '');
    for (const a of addresses) if (a) this.exact.add(a.toLowerCase().replace(/%.*$/, ''));
    this.machine = (machine.hostname ?? osHostname()).toLowerCase().split('.')[0] || undefined;
  }

  /** Is this `Host` header one of ours? */
  allows(header: string | undefined): boolean {
    if (header === undefined) return false;
    const name = hostName(header);
    if (name === undefined) return false;
    if (this.exact.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name)) return true;
    return this.machine !== undefined && (name === this.machine || name.startsWith(`${this.machine}.`));
  }
}

/**
 * An `Origin` header is fine when absent (curl, `watch`, scripts: not a browser page) or the
 * origin of the page this server serves, as reached through `host` (the request's own Host).
 */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  const o = origin.trim().toLowerCase();
  const h = host.trim().toLowerCase();
  return o === `http://${h}` || o === `https://${h}`;
}

/** Longest `from=` accepted: more digits than any feed can have messages. */
const MAX_FROM_DIGITS = 15;

/** `from=` (default 0): the last sequence number the client has; at most `lastSeq`, the feed's last message. */
export function parseFrom(text: string | null, lastSeq: number): number | Refusal {
  if (text === null) return 0;
  if (!/^\d+$/.test(text) || text.length > MAX_FROM_DIGITS) {
    return { status: 400, reason: `from=${text.slice(0, 40)} is not a message number (0, 1, 2, …)` };
  }
  const from = Number(text);
  if (from > lastSeq) {
    return { status: 409, reason: `from=${from} is ahead of this feed (last message ${lastSeq}): is this the run you were following?` };
  }
  return from;
}
