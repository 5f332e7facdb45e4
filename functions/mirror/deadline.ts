import type { Clock } from '../oci/retry.js';

/** How much time an invocation has left: Lambda passes `context.getRemainingTimeInMillis`. */
export type RemainingMs = () => number;

/** When copies park: the deadline and the margin kept before it. */
export interface DeadlineOptions {
  readonly remainingMs: RemainingMs;
  /**
   * Kept before the deadline at least (default 30 s, at most a third of the time left when the
   * copy starts): parking, the checkpoint's write, the task's return.
   */
  readonly marginMs?: number;
}

/** A remaining-time function for an absolute deadline (epoch ms), on `clock`. */
export function remainingUntil(deadline: number, clock: Pick<Clock, 'now'>): RemainingMs {
  return () => deadline - clock.now();
}

/**
 * Decides when a blob still streaming must park: when less time is left than the margin — the
 * larger of `marginMs` and the time one part takes at the rate observed so far, so that the part
 * in flight can still be appended and the checkpoint written.
 */
export class Parking {
  readonly #remainingMs: RemainingMs;
  readonly #marginMs: number;
  /** Slowest part seen so far, in ms per byte. */
  #msPerByte = 0;

  constructor(options: DeadlineOptions) {
    this.#remainingMs = options.remainingMs;
    // At most a third of the invocation's time: a short invocation (`ferry serve --task-deadline 10`)
    // still copies something before it parks, rather than parking at once, for ever.
    this.#marginMs = Math.min(options.marginMs ?? 30_000, Math.max(0, options.remainingMs()) / 3);
  }

  /** Records a part of `bytes` that took `ms` from its first byte read to its append. */
  observe(bytes: number, ms: number): void {
    if (bytes > 0) this.#msPerByte = Math.max(this.#msPerByte, ms / bytes);
  }

  /** Whether to park now rather than start or go on with a part of `partBytes`. */
  due(partBytes: number): boolean {
    return this.#remainingMs() < Math.max(this.#marginMs, partBytes * this.#msPerByte);
  }
}
