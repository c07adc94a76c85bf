/**
 * The run's message log: every live message, numbered, kept for replay, and
 * handed synchronously to every subscriber. Because publishing and replaying
 * happen on one thread, a subscriber that replays `since(n)` and subscribes
 * in the same tick gets every message exactly once.
 */
import { PROTOCOL_VERSION, type LiveBody, type LiveMessage } from './protocol.js';

export type Subscriber = (message: LiveMessage, json: string) => void;

export class LiveFeed {
  private readonly messages: LiveMessage[] = [];
  private readonly json: string[] = [];
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

  /** Has a `run-end` been published? */
  get ended(): boolean {
    return this.messages.at(-1)?.type === 'run-end';
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }
}
