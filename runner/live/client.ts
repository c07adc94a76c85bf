/**
 * One feed client: a cursor into the shared LiveFeed, sent on in bounded
 * chunks as the client takes them (backpressure), never as one burst. Three
 * ways out for a client that does not keep up:
 *
 * - it falls more than `maxLagBytes` behind the messages published since it
 *   joined: close 4001 (it may resume with `?from=`);
 * - it takes nothing for a whole heartbeat while data waits for it: cut,
 *   whatever pongs it sends;
 * - it misses a pong: cut.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { LiveFeed } from './feed.js';

/** Close codes the server uses (docs/live-protocol.md). */
export const CLOSE = {
  RUN_FINISHED: 1000,
  SERVER_STOPPING: 1001,
  TOO_SLOW: 4001,
} as const;

export interface ClientLimits {
  /** Close with 4001 past this many unsent bytes published since the client joined. */
  maxLagBytes: number;
  /** Stop handing messages to the socket while this many bytes wait in it. */
  chunkBytes: number;
}

export class FeedClient {
  private readonly ws: WebSocket;
  private readonly socket: Duplex | undefined;
  private readonly feed: LiveFeed;
  private readonly limits: ClientLimits;
  /** The last sequence number handed to the socket. */
  private cursor: number;
  /** The feed's end when the client joined: the replay before it is not lag. */
  private readonly joinedAt: number;
  private waiting = false;
  private corked = false;
  private alive = true;
  /** What waited at the last heartbeat: unchanged with data waiting means the client takes nothing. */
  private lastTick: { cursor: number; flushed: number } | undefined;
  private readonly unsubscribe: () => void;

  constructor(ws: WebSocket, feed: LiveFeed, from: number, limits: ClientLimits) {
    this.ws = ws;
    this.feed = feed;
    this.limits = limits;
    this.cursor = from;
    this.joinedAt = feed.lastSeq;
    this.socket = (ws as unknown as { _socket?: Duplex })._socket;
    ws.on('pong', () => {
      this.alive = true;
    });
    // Clients have nothing to say; what they send anyway is read and dropped (ws bounds its size).
    ws.on('message', () => {});
    this.unsubscribe = feed.subscribe(() => this.pump());
    ws.on('close', () => this.unsubscribe());
    ws.on('error', () => this.unsubscribe());
    this.pump();
  }

  /** Hand the socket what it can take now. */
  pump(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const lag = this.feed.bytesAfter(Math.max(this.cursor, this.joinedAt));
    if (lag > this.limits.maxLagBytes) {
      this.drop(CLOSE.TOO_SLOW, `too slow: more than ${this.limits.maxLagBytes} bytes behind; reconnect with ?from=${this.cursor}`);
      return;
    }
    if (this.waiting) return;
    // A console chunk publishes dozens of messages in one tick: write them in one go, not one syscall each.
    if (this.socket && !this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket?.uncork();
      });
    }
    while (this.cursor < this.feed.lastSeq) {
      if (this.ws.bufferedAmount >= this.limits.chunkBytes && this.socket) {
        this.waiting = true;
        this.socket.once('drain', () => {
          this.waiting = false;
          this.pump();
        });
        return;
      }
      this.ws.send(this.feed.text(++this.cursor)!);
    }
  }

  /** One heartbeat: false when the client is to be cut (no pong, or took nothing while data waited). */
  beat(): boolean {
    const pending = this.ws.bufferedAmount > 0 || this.cursor < this.feed.lastSeq;
    // Bytes the kernel took from the socket: our own pings queue up too, so the queue's size is no measure.
    const s = this.socket as (Duplex & { bytesWritten?: number }) | undefined;
    const flushed = s?.bytesWritten !== undefined ? s.bytesWritten - s.writableLength : -this.ws.bufferedAmount;
    const last = this.lastTick;
    this.lastTick = { cursor: this.cursor, flushed };
    if (!this.alive) return false;
    if (pending && last !== undefined && last.cursor === this.cursor && last.flushed === flushed) return false;
    this.alive = false;
    this.ws.ping();
    return true;
  }

  private drop(code: number, reason: string): void {
    this.unsubscribe();
    this.ws.close(code, reason);
    // The close frame waits behind the data the client does not read: cut it if it does not go.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }
}
