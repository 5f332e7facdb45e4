import type { Clock } from '../../../functions/oci/retry.js';

interface Timer {
  next: number;
  readonly ms: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told. `sleep` moves it at once by the time asked (nothing else in
 * these tests waits for real time) and calls `onSleep` first, so a test can script what "another
 * process" does meanwhile; `every` timers fire as time passes, in order.
 */
export class FakeClock implements Clock {
  #now: number;
  readonly #timers: Timer[] = [];
  /** Every sleep asked for, in ms, in order. */
  readonly sleeps: number[] = [];
  onSleep: ((ms: number) => void | Promise<void>) | undefined;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    await this.onSleep?.(ms);
    this.advance(ms);
  }

  every(ms: number, fn: () => void): () => void {
    const timer: Timer = { next: this.#now + ms, ms, fn };
    this.#timers.push(timer);
    return () => {
      const at = this.#timers.indexOf(timer);
      if (at >= 0) this.#timers.splice(at, 1);
    };
  }

  /** Moves time on by `ms`, firing the interval timers due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.next <= target).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.#now = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.#now = target;
  }

  /** Interval timers still running. */
  get running(): number {
    return this.#timers.length;
  }
}
