import { silentLogger, type Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import { type Clock, defaultRetryPolicy, RetryBudgets, type RetryPolicy, systemClock } from '../oci/retry.js';
import { BlobClaims, InFlight } from './blob-claims.js';
import { BlobLadder } from './blob-ladder.js';
import { BlobLocations, type SharedBlobs } from './blob-locations.js';
import type { BlobParking } from './blob-resumable.js';
import type { BlobOutcome, BlobProgress } from './blob-outcome.js';
import { Limiter } from './limiter.js';
import { defaultMinimumRate, type MinimumRate } from './rate-floor.js';

export type { BlobOutcome, BlobProgress } from './blob-outcome.js';
export type { SharedBlobs } from './blob-locations.js';

export interface BlobCopierOptions {
  /** Blob transfers at once across every image this copier serves. */
  readonly concurrency?: number;
  /**
   * Transfers per blob in all (default 3): the first, then one per decision on a failure — a
   * Range resume or a restart (see `TransferDecisions`). Only `attempts` and the backoff fields
   * are used; requests are retried by `RegistryClient`, not here.
   */
  readonly retry?: RetryPolicy;
  /**
   * Per-host retry budgets; pass the transport's (`transport.budgets`) so the ladder's decisions
   * and the request layer's retries draw on one budget per host (default: the copier's own).
   */
  readonly budgets?: RetryBudgets;
  /** Time for leases, heartbeats, polls, backoff and the rate floor (tests inject a fake one). */
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly progress?: BlobProgress;
  /** Where blobs are and who is moving them, shared with other processes (the copy-image Lambdas). */
  readonly shared?: SharedBlobs;
  /** How long a claim holds without renewal (default 60 s; renewed every third of it while streaming). */
  readonly leaseMs?: number;
  /** The longest wait for another process's transfer before streaming anyway (default 5 min). */
  readonly maxWaitMs?: number;
  /** First poll interval while waiting (default 100 ms, growing to 2 s). */
  readonly pollMs?: number;
  /** The slowest a streamed blob may move before its attempt fails (default 10 KiB/s over 60 s). */
  readonly minRate?: MinimumRate;
}

/**
 * Copies blobs with the ladder (see {@link BlobLadder}) — destination HEAD → skip; mount from a
 * repository of the same registry known to hold it; else stream source → destination, verifying
 * digest and size on the fly — one log line per decision. A blob in flight to a registry is
 * transferred once: other copies in this process wait for it and then skip or mount; with
 * leases, so do copies in other processes.
 *
 * Worst case per blob, in GETs at a source that always fails (defaults: `retry.attempts` = 3
 * transfers per blob, `transport.retry.attempts` = 5 sends per request):
 * - every GET refused (5xx, reset before a body): 5 — `RegistryClient` retries, gives up, and marks
 *   the error exhausted; the ladder does not retry what the request layer gave up on;
 * - every body cut: 3 — one GET per transfer, each resumed with `Range` (or restarted);
 * - the worst mix, each GET retried to a body that then breaks: 3 × 5 = 15, the upper bound.
 * Every GET after a blob's first spends a token of the source host's retry budget (default 10,
 * refilled at 1/s), so a dead host stops costing retries within a blob or two. The error the
 * ladder gives up with is exhausted: the state machine does not retry it (see tasks.ts and
 * run-workflow.ts). test/unit/ladder/worst-case.test.ts counts these GETs.
 */
export class BlobCopier {
  readonly #limiter: Limiter;
  readonly #inFlight = new InFlight();
  readonly #ladder: BlobLadder;

  constructor(options: BlobCopierOptions = {}) {
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    this.#limiter = new Limiter(options.concurrency ?? 6);
    const claims = new BlobClaims(
      {
        leaseMs: options.leaseMs ?? 60_000,
        maxWaitMs: options.maxWaitMs ?? 300_000,
        pollMs: options.pollMs ?? 100,
      },
      clock,
      logger,
    );
    this.#ladder = new BlobLadder(new BlobLocations(options.shared, logger), claims, {
      policy: options.retry ?? { ...defaultRetryPolicy, attempts: 3 },
      budgets: options.budgets ?? new RetryBudgets({}, clock),
      clock,
      logger,
      progress: options.progress ?? {},
      minRate: options.minRate ?? defaultMinimumRate,
    });
  }

  /**
   * Copies one blob into `destination` (skip, mount or stream); bytes moved are in the outcome.
   * With `park` (a copy that has a deadline), a large blob goes in parts and may come back parked.
   */
  copy(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    signal?: AbortSignal,
    park?: BlobParking,
  ): Promise<BlobOutcome> {
    const registry = destination.registry ?? destination.display;
    return this.#inFlight.run(`${registry} ${descriptor.digest}`, () =>
      this.#limiter.run(() => this.#ladder.climb(source, destination, descriptor, registry, signal, park)),
    );
  }
}
