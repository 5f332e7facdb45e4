import type { BlobClaim, BlobLeases } from '../../functions/mirror/blob-index.js';

/** One call on the leases, in order. */
export interface LeaseCall {
  readonly op: 'claim' | 'release';
  readonly registry: string;
  readonly digest: string;
  readonly holder: string;
}

/**
 * Blob leases in memory, on the test's clock: the semantics of the DynamoDB adapter (a claim is
 * granted when free, lapsed or already the caller's; refused with the holder's `until` otherwise;
 * a release by a non-holder does nothing), a call log, and a switch that makes every call fail.
 */
export class MemoryLeases implements BlobLeases {
  readonly calls: LeaseCall[] = [];
  readonly #held = new Map<string, { holder: string; until: number }>();
  readonly #now: () => number;
  /** When set, every call throws (a table that is down). */
  failing = false;

  constructor(now: () => number) {
    this.#now = now;
  }

  claim(registry: string, digest: string, holder: string, leaseMs: number): Promise<BlobClaim> {
    this.calls.push({ op: 'claim', registry, digest, holder });
    if (this.failing) return Promise.reject(new Error('leases unavailable'));
    const key = `${registry} ${digest}`;
    const current = this.#held.get(key);
    if (current && current.holder !== holder && current.until > this.#now())
      return Promise.resolve({ granted: false, until: current.until });
    this.#held.set(key, { holder, until: this.#now() + leaseMs });
    return Promise.resolve({ granted: true });
  }

  release(registry: string, digest: string, holder: string): Promise<void> {
    this.calls.push({ op: 'release', registry, digest, holder });
    if (this.failing) return Promise.reject(new Error('leases unavailable'));
    const key = `${registry} ${digest}`;
    if (this.#held.get(key)?.holder === holder) this.#held.delete(key);
    return Promise.resolve();
  }

  /** Test setup: another process holds the claim until `until` (epoch ms on the test's clock). */
  hold(registry: string, digest: string, holder: string, until: number): void {
    this.#held.set(`${registry} ${digest}`, { holder, until });
  }

  /** The current holder, if any (lapsed claims included: they are only overwritten). */
  holderOf(registry: string, digest: string): string | undefined {
    return this.#held.get(`${registry} ${digest}`)?.holder;
  }

  /** Claims made by holders other than `other`. */
  claimsBy(predicate: (holder: string) => boolean): LeaseCall[] {
    return this.calls.filter((c) => c.op === 'claim' && predicate(c.holder));
  }
}
