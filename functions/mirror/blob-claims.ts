import { randomUUID } from 'node:crypto';
import type { Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Clock } from '../oci/retry.js';
import type { BlobClaim, BlobLeases } from './blob-index.js';
import type { BlobOutcome } from './blob-outcome.js';

/**
 * Transfers in flight in this process, by key (`registry digest`): a second copy of a blob into
 * the same registry waits for the first, then runs — and finds the blob there (skip or mount).
 */
export class InFlight {
  readonly #running = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    for (;;) {
      const running = this.#running.get(key);
      if (!running) break;
      await running.catch(() => undefined);
    }
    // WARNING: no await between the loop's last check and this set, or two copies would both start.
    const mine = task();
    this.#running.set(key, mine);
    try {
      return await mine;
    } finally {
      this.#running.delete(key);
    }
  }
}

/** Timing of claims across processes. */
export interface ClaimTiming {
  /** How long a claim holds without renewal; renewed every third of it while the holder streams. */
  readonly leaseMs: number;
  /** The longest wait for another process's transfer before streaming anyway. */
  readonly maxWaitMs: number;
  /** First poll interval while waiting, growing by half each time to 2 s. */
  readonly pollMs: number;
}

/** A claim this process holds: renewed by a heartbeat until released. */
export interface HeldClaim {
  /** Stops the heartbeat and gives the claim up; never throws (an unreleased claim lapses). */
  release(): Promise<void>;
}

/** What a waiting copy does on each poll of the index. */
export interface Waiting {
  /** The blob's outcome once another process brought it (skip or mount), else undefined. */
  poll(): Promise<BlobOutcome | undefined>;
  /** Whether the blob is at the destination already (asked after a lapsed claim was granted). */
  arrived(): Promise<boolean>;
}

export type ClaimResult =
  { readonly outcome: BlobOutcome } | { readonly claim: HeldClaim | undefined; readonly waited: boolean };

const maxPollMs = 2_000;

/**
 * Claims on transfers across processes (the copy-image Lambdas of one run start together). The
 * holder streams and renews its claim; the others wait — polling the index, not the registry —
 * for the blob to show up and mount it, take over when the holder's lease lapses, and stream
 * anyway after `maxWaitMs`. Leases are an optimisation: when they fail, the copy streams.
 */
export class BlobClaims {
  readonly #timing: ClaimTiming;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(timing: ClaimTiming, clock: Clock, logger: Logger) {
    this.#timing = timing;
    this.#clock = clock;
    this.#logger = logger;
  }

  async claimOrWait(
    leases: BlobLeases,
    registry: string,
    descriptor: Descriptor,
    destination: { readonly name: string; readonly display: string },
    waiting: Waiting,
    signal?: AbortSignal,
  ): Promise<ClaimResult> {
    const { digest } = descriptor;
    const holder = `${destination.name} ${randomUUID()}`;
    const deadline = this.#clock.now() + this.#timing.maxWaitMs;
    let delay = this.#timing.pollMs;
    let waited = false;
    for (;;) {
      let claim: BlobClaim;
      try {
        claim = await leases.claim(registry, digest, holder, this.#timing.leaseMs);
      } catch (err) {
        this.#logger.warn('blob lease unavailable; streaming', { digest, error: String(err) });
        return { claim: undefined, waited };
      }
      if (claim.granted) {
        const held = this.#hold(leases, registry, digest, holder);
        // The lease lapsed or was given up: the holder may have finished before we polled again.
        if (waited && (await waiting.arrived())) {
          await held.release();
          return { outcome: { kind: 'skipped', bytes: 0 } };
        }
        return { claim: held, waited };
      }
      if (!waited)
        this.#logger.debug('blob being copied by another process: waiting to mount it', {
          digest,
          destination: destination.display,
        });
      waited = true;
      while (this.#clock.now() < Math.min(claim.until, deadline)) {
        await this.#clock.sleep(delay, signal);
        delay = Math.min(delay * 1.5, maxPollMs);
        const outcome = await waiting.poll();
        if (outcome) return { outcome };
      }
      if (this.#clock.now() >= deadline) {
        this.#logger.warn('waited too long for another process to copy a blob; streaming it', {
          digest,
          waitedMs: this.#timing.maxWaitMs,
        });
        return { claim: undefined, waited };
      }
    }
  }

  /** A granted claim, renewed every third of the lease so a long layer is not taken over. */
  #hold(leases: BlobLeases, registry: string, digest: string, holder: string): HeldClaim {
    const { leaseMs } = this.#timing;
    const stop = this.#clock.every(Math.max(1, Math.floor(leaseMs / 3)), () => {
      leases
        .claim(registry, digest, holder, leaseMs)
        .catch((err: unknown) => this.#logger.warn('blob lease renewal failed', { digest, error: String(err) }));
    });
    return {
      release: async () => {
        stop();
        try {
          await leases.release(registry, digest, holder);
        } catch (err) {
          this.#logger.warn('blob lease release failed (it lapses by itself)', { digest, error: String(err) });
        }
      },
    };
  }
}
