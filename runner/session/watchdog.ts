/**
 * The session's timers, by name: the stall timer (re-armed on every sign of
 * progress), the whole-run timeout, the KVM probe and the panic grace. Each
 * fires its callback once unless re-armed or cleared first; `stopAll` clears
 * them all and makes any later `arm` a no-op (the run is over).
 */
export type TimerName = 'stall' | 'run' | 'kvm-probe' | 'panic';

export class Watchdog {
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private stopped = false;

  /** (Re)start `name`: `fire` runs after `ms` (nothing happens for 0 or undefined, or once stopped). */
  arm(name: TimerName, ms: number | undefined, fire: () => void): void {
    if (!ms || this.stopped) return;
    this.clear(name);
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        fire();
      }, ms),
    );
  }

  clear(name: TimerName): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  /** Clear every timer, for good. */
  stopAll(): void {
    this.stopped = true;
    for (const name of [...this.timers.keys()]) this.clear(name);
  }

  /** The timers waiting to fire (for tests). */
  pending(): TimerName[] {
    return [...this.timers.keys()];
  }
}
