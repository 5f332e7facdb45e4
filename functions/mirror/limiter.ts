import pLimit, { type LimitFunction } from 'p-limit';

/** Bounded concurrency: at most `size` tasks run at once, the rest queue in order. */
export class Limiter {
  readonly #limit: LimitFunction;
  constructor(size: number) {
    this.#limit = pLimit(Math.max(1, Math.floor(size)));
  }
  run<T>(task: () => Promise<T>): Promise<T> {
    return this.#limit(task);
  }
}
