import type { Readable } from 'node:stream';
import { TransportError } from '../oci/errors.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import { type Clock, systemClock } from '../oci/retry.js';
import { formatBytes } from './format.js';

/** The slowest a blob may move, averaged over a window; `bytesPerSecond: 0` turns the check off. */
export interface MinimumRate {
  readonly bytesPerSecond: number;
  readonly windowMs: number;
}

/** 10 KiB/s over 60 s: a trickling registry fails a blob within about a minute instead of never. */
export const defaultMinimumRate: MinimumRate = { bytesPerSecond: 10 * 1024, windowMs: 60_000 };

/**
 * Watches one attempt at a blob: every `windowMs` it compares the bytes read in that window
 * with the floor, and below it fails the source body with a retryable {@link TransportError}
 * that names both sides, the digest and the rate. The idle timeout catches a connection that
 * goes silent; this catches one that never quite does (a byte a second resets any idle timer).
 */
export class RateFloor {
  readonly #rate: MinimumRate;
  readonly #describe: (bytesPerSecond: number) => TransportError;
  #bytes = 0;
  #atLastCheck = 0;
  readonly #clock: Clock;
  #stopTimer: (() => void) | undefined;
  #body: Readable | undefined;
  /** Set when the floor was broken: the attempt must fail with it. */
  failure: TransportError | undefined;

  constructor(
    rate: MinimumRate,
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    clock: Clock = systemClock,
  ) {
    this.#rate = rate;
    this.#clock = clock;
    this.#describe = (bytesPerSecond) =>
      new TransportError(
        `blob ${descriptor.digest} from ${source.display} to ${destination.display} moved ${formatBytes(Math.floor(bytesPerSecond))}/s over ${seconds(rate.windowMs)}, below the minimum rate of ${formatBytes(rate.bytesPerSecond)}/s`,
        { registry: source.registry ?? source.display, repository: source.name, retryable: true },
      );
  }

  /** Starts the clock (on the first read, so that queueing and upload set-up do not count). */
  start(): void {
    if (this.#stopTimer !== undefined || this.#rate.bytesPerSecond <= 0) return;
    this.#stopTimer = this.#clock.every(this.#rate.windowMs, () => this.#check());
  }

  /** The body being read now: destroyed when the floor is broken. */
  watch(body: Readable): void {
    this.#body = body;
    if (this.failure) body.destroy(this.failure);
  }

  add(bytes: number): void {
    this.#bytes += bytes;
  }

  stop(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
  }

  #check(): void {
    const moved = this.#bytes - this.#atLastCheck;
    this.#atLastCheck = this.#bytes;
    if (moved >= (this.#rate.bytesPerSecond * this.#rate.windowMs) / 1000) return;
    this.stop();
    this.failure = this.#describe((moved * 1000) / this.#rate.windowMs);
    this.#body?.destroy(this.failure);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
