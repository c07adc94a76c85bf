/**
 * One line stream from two sources that carry the same kernel log: the
 * serial console and the in-guest agent (/dev/kmsg rendered as console
 * lines, byte-identical to the console's). Pure.
 *
 * The serial console feeds the parser until the agent's first line arrives
 * (the live view has the boot from the start); from then on the agent does,
 * beginning just after the last line the console gave (found by printk
 * time, then by text among the lines of that same time). If the agent's
 * stream ends early (a panic, a killed guest), the console's lines after
 * the agent's last one are joined on the same way.
 */
import { printkTime, type LineInfo } from '../ktap/index.js';

export type LineSource = 'serial' | 'agent';
export type JoinSink = (text: string, info: LineInfo | undefined, source: LineSource) => void;

/** A line's printk time in microseconds (read as the parser reads it), or undefined. */
export function printkMicros(text: string): number | undefined {
  const t = printkTime(text);
  return t === undefined ? undefined : Math.round(t * 1e6);
}

export class StreamJoin {
  private source: LineSource = 'serial';
  /** Dropping the new source's lines until it passes the position. */
  private catchingUp = false;
  /** Printk time of the last line fed, and how many times each text was fed at that time. */
  private posTime = -1;
  private posTexts = new Map<string, number>();
  /** While catching up: the lines fed at `posTime` that the new source has not passed yet. */
  private unmatched = new Map<string, number>();
  /** Lines fed per source. */
  readonly fed: Record<LineSource, number> = { serial: 0, agent: 0 };

  constructor(private readonly sink: JoinSink) {}

  get current(): LineSource {
    return this.source;
  }

  /** A line from the serial console. */
  serial(text: string, info?: LineInfo): void {
    this.offer('serial', text, info);
  }

  /** A line from the agent; the first one hands the stream over to the agent. */
  agent(text: string): void {
    if (this.source === 'serial') this.switchTo('agent');
    this.offer('agent', text, undefined);
  }

  /** The agent's stream ended early: go on with the serial lines after its last one. */
  switchTo(source: LineSource): void {
    if (this.source === source) return;
    this.source = source;
    this.catchingUp = true;
    this.unmatched = new Map(this.posTexts);
  }

  private offer(from: LineSource, text: string, info: LineInfo | undefined): void {
    if (from !== this.source) return;
    const t = printkMicros(text);
    if (this.catchingUp) {
      if (t === undefined || t < this.posTime) return;
      if (t > this.posTime) this.catchingUp = false;
      else {
        // Many lines share a printk time, some with the same text (`    KTAP version 1`, `1..2`):
        // each line fed at this time is passed once, in count; a line the other source did not
        // have (a KERN_DEBUG record is not on the console) is new.
        const n = this.unmatched.get(text) ?? 0;
        if (n > 0) {
          if (n > 1) this.unmatched.set(text, n - 1);
          else this.unmatched.delete(text);
          if (this.unmatched.size === 0) this.catchingUp = false;
          return;
        }
      }
    }
    if (t !== undefined) {
      if (t !== this.posTime) {
        this.posTime = t;
        this.posTexts.clear();
      }
      this.posTexts.set(text, (this.posTexts.get(text) ?? 0) + 1);
    }
    this.fed[from]++;
    this.sink(text, info, from);
  }
}
