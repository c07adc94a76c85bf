/** Raw HTTP on loopback, for requests no well-behaved client would send; hostile request targets. */
import { connect } from 'node:net';

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
    s.on('close', () => { clearTimeout(timer); resolve(got); });
  });
}

/** A WebSocket upgrade request for `target` (a valid key and version), with extra header lines. */
export const upgrade = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
  + `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

/** A plain GET of `target`. */
export const plain = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

/** Request targets that `new URL(target, base)` throws on, and other odd ones. */
export const HOSTILE_TARGETS = ['//x:99999/', '//[', '//%', '//', '/%', '/agent?token=%', '/agent?token=%zz&token=x', '*', 'http://[::1', '/agent#x',
  `/${'a'.repeat(6000)}`, '/agent?token', '/agent/?token=x', '/AGENT?token=x', '/agent?%00=%ff'];
