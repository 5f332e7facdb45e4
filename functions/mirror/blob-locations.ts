import type { Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import { type BlobIndex, type BlobLeases, MemoryBlobIndex } from './blob-index.js';

/** A blob index and claims on transfers shared by processes; used for blobs of `minBytes` and up. */
export interface SharedBlobs {
  readonly index: BlobIndex;
  readonly leases?: BlobLeases;
  /**
   * Smaller blobs (configs, small layers) are copied without asking: a round trip to the shared
   * index costs about what uploading them does (default 1 MiB).
   */
  readonly minBytes?: number;
}

/**
 * Where blobs are known to be, per destination registry: what this process put or found
 * (in memory), then the shared index for blobs of `minBytes` and up. The shared index is an
 * optimisation: when it fails, the copy goes on without it.
 */
export class BlobLocations {
  /** Where this process has put or found blobs. */
  readonly #memory = new MemoryBlobIndex();
  readonly #shared: SharedBlobs | undefined;
  readonly #logger: Logger;
  /** Blobs smaller than this never touch the shared index (or its leases). */
  readonly minBytes: number;

  constructor(shared: SharedBlobs | undefined, logger: Logger) {
    this.#shared = shared;
    this.#logger = logger;
    this.minBytes = shared?.minBytes ?? 1 << 20;
  }

  /** Whether `descriptor` is large enough for the shared index and its leases. */
  isShared(descriptor: Descriptor): boolean {
    return this.#shared !== undefined && descriptor.size >= this.minBytes;
  }

  /** The shared leases, when this blob may use them. */
  leasesFor(descriptor: Descriptor): BlobLeases | undefined {
    return this.isShared(descriptor) ? this.#shared?.leases : undefined;
  }

  /** Mount candidates: this process's, then the shared index's for large blobs. */
  async locations(registry: string, descriptor: Descriptor): Promise<readonly string[]> {
    const near = await this.#memory.locations(registry, descriptor.digest);
    if (!this.#shared || !this.isShared(descriptor)) return near;
    try {
      return [...new Set([...near, ...(await this.#shared.index.locations(registry, descriptor.digest))])];
    } catch (err) {
      this.#logger.warn("blob index lookup failed; not mounting from other processes' copies", {
        digest: descriptor.digest,
        error: String(err),
      });
      return near;
    }
  }

  /**
   * Remembers where a blob now is — the ladder calls this only once the registry said so (HEAD,
   * a 201 mount, a committed upload) — in the shared index once per process, which refreshes the
   * location's age there. A failing index never fails the copy.
   */
  async record(registry: string, descriptor: Descriptor, repository: string): Promise<void> {
    if (this.#memory.has(registry, descriptor.digest, repository)) return;
    await this.#memory.record(registry, descriptor.digest, repository);
    await this.#shareWrite(descriptor, (index) => index.record(registry, descriptor.digest, repository));
  }

  /** Drops a location a mount from it refused, here and in the shared index. */
  async forget(registry: string, descriptor: Descriptor, repository: string): Promise<void> {
    await this.#memory.forget(registry, descriptor.digest, repository);
    await this.#shareWrite(descriptor, (index) => index.forget(registry, descriptor.digest, repository));
  }

  async #shareWrite(descriptor: Descriptor, write: (index: BlobIndex) => Promise<void>): Promise<void> {
    if (!this.#shared || !this.isShared(descriptor)) return;
    try {
      await write(this.#shared.index);
    } catch (err) {
      this.#logger.warn('blob index write failed', { digest: descriptor.digest, error: String(err) });
    }
  }
}
