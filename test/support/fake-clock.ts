import type { SchedulerClock } from '../../functions/local/local-set-scheduler.js';

/**
 * A SchedulerClock tests move by hand: `advance(ms)` runs every timer due by then, in due order,
 * each with `now()` at its due time (a timer a callback sets within the window runs too).
 */
export class FakeClock implements SchedulerClock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { due: number; fn: () => void }>();

  constructor(start: string | Date) {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.#seq;
    this.#timers.set(id, { due: this.#now + ms, fn });
    return () => this.#timers.delete(id);
  }

  /** The delays of the timers set now, from now (sorted). */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.due - this.#now).sort((a, b) => a - b);
  }

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = [...this.#timers.entries()]
        .filter(([, t]) => t.due <= end)
        .sort(([a, x], [b, y]) => x.due - y.due || a - b)[0];
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].due;
      next[1].fn();
    }
    this.#now = end;
  }
}
