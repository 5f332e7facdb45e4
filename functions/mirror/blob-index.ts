/** Where blobs are known to live, per destination registry: the mount candidates. */
export interface BlobIndex {
  /** Repositories of `registry` known to hold `digest`, most useful first. */
  locations(registry: string, digest: string): Promise<readonly string[]>;
  /** Remembers that `repository` holds `digest` (copied, mounted or found there), refreshing its age. */
  record(registry: string, digest: string, repository: string): Promise<void>;
  /**
   * Drops a location a mount from it refused (the repository or its blob is gone): a location is
   * trusted only until a mount from it fails, so a stale one costs one refused mount, once.
   */
  forget(registry: string, digest: string, repository: string): Promise<void>;
}

/** An in-process blob index. */
export class MemoryBlobIndex implements BlobIndex {
  readonly #locations = new Map<string, Set<string>>();

  locations(registry: string, digest: string): Promise<readonly string[]> {
    return Promise.resolve([...(this.#locations.get(`${registry} ${digest}`) ?? [])]);
  }

  record(registry: string, digest: string, repository: string): Promise<void> {
    const key = `${registry} ${digest}`;
    let set = this.#locations.get(key);
    if (!set) this.#locations.set(key, (set = new Set()));
    set.add(repository);
    return Promise.resolve();
  }

  forget(registry: string, digest: string, repository: string): Promise<void> {
    this.#locations.get(`${registry} ${digest}`)?.delete(repository);
    return Promise.resolve();
  }

  /** Whether this location is known already. */
  has(registry: string, digest: string, repository: string): boolean {
    return this.#locations.get(`${registry} ${digest}`)?.has(repository) ?? false;
  }
}

/** The answer to a claim on moving one blob into one registry. */
export type BlobClaim = { readonly granted: true } | { readonly granted: false; readonly until: number };

/**
 * Claims on transfers across processes: the copy-image Lambdas of one run start together, and
 * without a claim every one of them would stream the shared base layer. The holder streams;
 * the others wait for its location to appear in the index and mount from it.
 */
export interface BlobLeases {
  /** Claims, or renews, moving `digest` into `registry` for `holder` until now + `leaseMs` (epoch ms in `until` when refused). */
  claim(registry: string, digest: string, holder: string, leaseMs: number): Promise<BlobClaim>;
  /** Gives a claim up (after the blob is in, or the transfer failed). */
  release(registry: string, digest: string, holder: string): Promise<void>;
}
