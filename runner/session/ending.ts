/**
 * How a session ends, decided once: the first of QEMU's exit and a stop
 * request (a timer, the signal, the agent) wins, and an exit without any
 * kernel output is QEMU's failure (or KVM's, when it was probed).
 */
import type { QemuExit } from '../qemu/process.js';

export type SessionEnding = 'exited' | 'timeout' | 'stall' | 'interrupted' | 'kvm-dead' | 'qemu-failed' | 'agent-failed' | 'panicked';

/** Reasons to stop QEMU before it exits by itself: the first one counts. */
export class StopRequest {
  /** Resolves with the first reason given. */
  readonly requested: Promise<SessionEnding>;
  /** When the first stop was asked for (0: not yet). */
  at = 0;
  /** The stop came from the agent's bye: the guest's work is done, QEMU is stopped, not waited for. */
  agentDone = false;
  /** The last parser event before the stop (what the stopped test ran until). */
  private lastEventAt = Date.now();
  private resolve!: (why: SessionEnding) => void;

  constructor() {
    this.requested = new Promise<SessionEnding>((resolve) => {
      this.resolve = resolve;
    });
  }

  stop(why: SessionEnding): void {
    this.at ||= Date.now();
    this.resolve(why);
  }

  /** A parser event arrived (counts only before the stop). */
  event(): void {
    if (!this.at) this.lastEventAt = Date.now();
  }

  /** From the last event to the stop. */
  waitedMs(): number {
    return this.at - this.lastEventAt;
  }
}

/** The ending, from what came first and how QEMU exited. Pure. */
export function decideEnding(first: SessionEnding, exit: QemuExit, sawKernel: boolean, kvmProbed: boolean): SessionEnding {
  if (first === 'exited' && !sawKernel && exit.code !== 0) return kvmProbed ? 'kvm-dead' : 'qemu-failed';
  return first;
}
