/**
 * The agent's WebSocket client (RFC 6455), on `node:net` alone: the part of
 * `ws`'s client the agent uses (text frames, ping, close codes), without
 * `http` (its handshake goes through `http.request`). Under TCG the guest's
 * Node spent about 0.3 s a boot loading `http` and running its request
 * machinery for one upgrade (docs/agent.md, "Start-up").
 *
 * Events, as `ws` emits them: `open`; `message` (data: Buffer, isBinary);
 * `error` (Error), always followed by `close`; `close` (code: the peer's
 * close code, 1005 if its close frame had none, 1006 if the connection
 * ended without one), once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** The longest HTTP response head accepted for the upgrade. */
const MAX_HEAD = 16 * 1024;
/** How long a close handshake may take before the socket is destroyed (ms). */
const CLOSE_WAIT_MS = 1000;

export interface WsClientOptions {
  /** No upgrade within this many ms: error and close (default 5000). */
  handshakeTimeout?: number;
  /** A message longer than this closes the connection with 1009 (default 100 MiB). */
  maxPayload?: number;
}

/** The accept value a server must answer to `key`. */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** One frame, masked as a client must (RFC 6455 §5.3). */
export function encodeFrame(opcode: number, payload: Buffer, mask: Buffer = randomBytes(4)): Buffer {
  const n = payload.length;
  const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headLen + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  mask.copy(out, headLen, 0, 4);
  const body = headLen + 4;
  for (let i = 0; i < n; i++) out[body + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

export class WsClient extends EventEmitter {
  private readonly sock: Socket;
  private readonly key = randomBytes(16).toString('base64');
  private readonly maxPayload: number;
  private head: Buffer | undefined = Buffer.alloc(0);
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOp = 0;
  private fragmentLen = 0;
  private open = false;
  private closeSent = false;
  private closeCode = 1006;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(url: string, opts: WsClientOptions = {}) {
    super();
    const u = new URL(url);
    if (u.protocol !== 'ws:') throw new Error(`unsupported URL: ${u.protocol} (ws: only)`);
    this.maxPayload = opts.maxPayload ?? 100 * 1024 * 1024;
    const port = Number(u.port || 80);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.sock = connect({ host, port });
    this.sock.setNoDelay(true);
    this.timer = setTimeout(() => this.fail(new Error('Opening handshake has timed out')), opts.handshakeTimeout ?? 5000);
    this.sock.on('connect', () => {
      this.sock.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', (e) => this.fail(e));
    this.sock.on('close', () => this.finish());
  }

  /** Send one text frame (dropped once the connection is closing, as `ws` would fail it). */
  send(text: string): void {
    if (!this.open || this.closeSent) return;
    this.sock.write(encodeFrame(OP_TEXT, Buffer.from(text, 'utf8')));
  }

  /** Start the closing handshake with `code`; the socket is destroyed if the peer does not answer. */
  close(code = 1000): void {
    if (this.closed) return;
    if (!this.open) {
      this.sock.destroy();
      return;
    }
    this.sendClose(code);
  }

  private sendClose(code: number): void {
    if (this.closeSent) return;
    this.closeSent = true;
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code, 0);
    this.sock.write(encodeFrame(OP_CLOSE, p));
    setTimeout(() => this.sock.destroy(), CLOSE_WAIT_MS).unref();
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.emit('error', e);
    this.sock.destroy();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.emit('close', this.closeCode);
  }

  private onData(d: Buffer): void {
    if (this.head !== undefined) {
      const head = Buffer.concat([this.head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) this.fail(new Error('Invalid HTTP response: head too long'));
        else this.head = head;
        return;
      }
      this.head = undefined;
      const err = this.checkUpgrade(head.toString('latin1', 0, end));
      if (err) {
        this.fail(new Error(err));
        return;
      }
      clearTimeout(this.timer);
      this.open = true;
      this.emit('open');
      d = head.subarray(end + 4);
      if (d.length === 0) return;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (!this.closed && this.readFrame());
  }

  /** An error message, or undefined if `head` is a valid 101 for our key. */
  private checkUpgrade(head: string): string | undefined {
    const [status, ...lines] = head.split('\r\n');
    const code = /^HTTP\/1\.1 (\d{3})/.exec(status ?? '')?.[1];
    if (code !== '101') return `Unexpected server response: ${code ?? status}`;
    const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
    if (headers.get('sec-websocket-accept') !== acceptFor(this.key)) return 'Invalid Sec-WebSocket-Accept header';
    if (headers.has('sec-websocket-extensions')) return 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
    return undefined;
  }

  /** Take one whole frame off the buffer and act on it; false if there is none yet. */
  private readFrame(): boolean {
    const b = this.buf;
    if (b.length < 2) return false;
    const fin = (b[0]! & 0x80) !== 0;
    const opcode = b[0]! & 0x0f;
    if ((b[0]! & 0x70) !== 0) return this.protocolError(1002, 'RSV bits set');
    if ((b[1]! & 0x80) !== 0) return this.protocolError(1002, 'a masked frame from the server');
    let len = b[1]! & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return false;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return false;
      len = b.readUInt32BE(2) * 2 ** 32 + b.readUInt32BE(6);
      off = 10;
    }
    const control = opcode >= 0x8;
    if (control && (len > 125 || !fin)) return this.protocolError(1002, 'an invalid control frame');
    if (!control && this.fragmentLen + len > this.maxPayload) return this.protocolError(1009, 'Max payload size exceeded');
    if (b.length < off + len) return false;
    const payload = b.subarray(off, off + len);
    this.buf = b.subarray(off + len);
    switch (opcode) {
      case OP_TEXT:
      case OP_BINARY:
        if (this.fragmentOp) return this.protocolError(1002, 'a new message inside a fragmented one');
        if (fin) this.emit('message', Buffer.from(payload), opcode === OP_BINARY);
        else this.startFragments(opcode, payload);
        return true;
      case OP_CONT:
        if (!this.fragmentOp) return this.protocolError(1002, 'a continuation without a message');
        this.fragments.push(Buffer.from(payload));
        this.fragmentLen += len;
        if (fin) {
          const data = Buffer.concat(this.fragments);
          const binary = this.fragmentOp === OP_BINARY;
          this.fragments = [];
          this.fragmentOp = 0;
          this.fragmentLen = 0;
          this.emit('message', data, binary);
        }
        return true;
      case OP_PING:
        if (!this.closeSent) this.sock.write(encodeFrame(OP_PONG, Buffer.from(payload)));
        return true;
      case OP_PONG:
        return true;
      case OP_CLOSE:
        this.closeCode = len >= 2 ? payload.readUInt16BE(0) : 1005;
        // Answer with the same code (RFC 6455 §5.5.1), then the server ends the TCP connection.
        this.sendClose(len >= 2 ? this.closeCode : 1000);
        this.sock.end();
        return false;
      default:
        return this.protocolError(1002, `an unknown opcode ${opcode}`);
    }
  }

  private startFragments(opcode: number, payload: Buffer): void {
    this.fragmentOp = opcode;
    this.fragments = [Buffer.from(payload)];
    this.fragmentLen = payload.length;
  }

  private protocolError(code: number, why: string): false {
    this.closeCode = code;
    this.emit('error', new Error(`Invalid WebSocket frame: ${why}`));
    this.sendClose(code);
    this.sock.end();
    this.closed = true;
    clearTimeout(this.timer);
    // `close` is still said once, after the error (as ws does).
    this.sock.once('close', () => this.emit('close', code));
    return false;
  }
}
