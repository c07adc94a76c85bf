/**
 * The run's message log: every live message, numbered, kept for replay, and
 * announced synchronously to every subscriber. Each client reads the log at its
 * own pace through a cursor (a sequence number): one copy of the feed, however
 * many clients lag behind.
 */
import { PROTOCOL_VERSION, type LiveBody, type LiveMessage } from './protocol.js';

export type Subscriber = (message: LiveMessage, json: string) => void;

export class LiveFeed {
  private readonly messages: LiveMessage[] = [];
  private readonly json: string[] = [];
  /** `bytes[i]`: UTF-8 bytes of messages 1..i (`bytes[0] = 0`). */
  private readonly bytes: number[] = [0];
  private readonly subscribers = new Set<Subscriber>();
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  /** Stamp, store and broadcast a message. */
  publish(body: LiveBody): LiveMessage {
    const message = { v: PROTOCOL_VERSION, seq: this.messages.length + 1, time: this.clock(), ...body } as LiveMessage;
    const text = JSON.stringify(message);
    this.messages.push(message);
    this.json.push(text);
    this.bytes.push(this.bytes.at(-1)! + Buffer.byteLength(text));
    for (const s of this.subscribers) s(message, text);
    return message;
  }

  /** The last sequence number published (0 before the first message). */
  get lastSeq(): number {
    return this.messages.length;
  }

  /** Messages after `seq` (as JSON text), in order. */
  since(seq: number): string[] {
    return this.json.slice(Math.max(0, Math.min(seq, this.json.length)));
  }

  /** Message `seq` as JSON text (undefined past the end). */
  text(seq: number): string | undefined {
    return this.json[seq - 1];
  }

  /** Bytes of the messages after `seq`, up to the last one. */
  bytesAfter(seq: number): number {
    return this.bytes.at(-1)! - (this.bytes[Math.max(0, Math.min(seq, this.json.length))] ?? 0);
  }

  /** Has a `run-end` been published? */
  get ended(): boolean {
    return this.messages.at(-1)?.type === 'run-end';
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }
}
