/**
 * Raw HTTP over a real loopback TCP socket, for requests no client library
 * would send (`GET //x:99999/`, broken headers, random frames).
 */
import { connect } from 'node:net';

export interface RawResponse {
  /** The status code of the first response line, if one came. */
  status: number | undefined;
  /** Everything received, as latin1. */
  text: string;
  /** Headers of the first response, lowercased names. */
  headers: Record<string, string>;
}

/** Send `data` (then, if given, `after` once the response head arrived); resolve when the server closes, after `timeoutMs` (default 3 s), or with `untilHead` once the head arrived. */
export function rawRequest(
  port: number,
  data: string | Buffer,
  opts: { timeoutMs?: number; after?: Buffer; untilHead?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let sentAfter = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const head = text.split('\r\n\r\n')[0] ?? '';
      const [first, ...lines] = head.split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(first ?? '');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: m ? Number(m[1]) : undefined, text, headers });
    };
    const timer = setTimeout(done, opts.timeoutMs ?? 3000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (opts.untilHead && end !== -1) return done();
      // A whole response with a Content-Length: no need to wait for a keep-alive connection to close.
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (!opts.after && end !== -1 && length && text.length - end - 4 >= Number(length[1])) return done();
      if (opts.after && !sentAfter && text.includes('\r\n\r\n')) {
        sentAfter = true;
        socket.write(opts.after);
      }
    });
    socket.on('error', () => done());
    socket.on('close', () => done());
    socket.write(data);
  });
}

/** A request head: `METHOD target`, then headers, then the blank line. */
export function head(method: string, target: string, headers: Record<string, string>): string {
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

/** The headers of a WebSocket upgrade. */
export const UPGRADE: Readonly<Record<string, string>> = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
};

/** Send `request` as is; what came back, up to the end of the response head (or the close, or 2 s). */
export function raw(port: number, request: string | Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = connect(port, '127.0.0.1', () => s.write(request));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) s.destroy(); // the head is enough
    });
    s.on('error', () => {});
    const timer = setTimeout(() => s.destroy(), 2000);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

/** A WebSocket upgrade request for `target` (a valid key and version), with extra header lines. */
export const upgrade = (target: string, extra = ''): string =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

/** A plain GET of `target`. */
export const plain = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

/** Request targets that `new URL(target, base)` throws on, and other odd ones. */
export const HOSTILE_TARGETS = [
  '//x:99999/',
  '//[',
  '//%',
  '//',
  '/%',
  '/agent?token=%',
  '/agent?token=%zz&token=x',
  '*',
  'http://[::1',
  '/agent#x',
  `/${'a'.repeat(6000)}`,
  '/agent?token',
  '/agent/?token=x',
  '/AGENT?token=x',
  '/agent?%00=%ff',
];
