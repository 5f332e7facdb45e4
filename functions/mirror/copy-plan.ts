import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import type { CopyPlan } from './copy-outcome.js';
import type { Limiter } from './limiter.js';
import type { TreeVisitor } from './manifest-tree.js';

/**
 * A dry run's walk of a manifest tree: counts the manifest GETs a copy would make and HEADs
 * every distinct blob at the destination. Writes nothing.
 */
export class PlanTally implements TreeVisitor<void> {
  #manifestGets: number;
  readonly #blobs = new Map<string, { readonly size: number; present: boolean }>();
  readonly #destination: Repository;
  readonly #heads: Limiter;

  /**
   * `manifestGets`: the source reads already made to resolve the image (the manifest, and one
   * platform's own manifest when it was picked out of an index).
   * WARNING: `heads` must not be the limiter the walk holds a slot of while it waits here, or an
   * index with as many children as that limiter has slots deadlocks.
   */
  constructor(destination: Repository, heads: Limiter, manifestGets: number) {
    this.#destination = destination;
    this.#heads = heads;
    this.#manifestGets = manifestGets;
  }

  fetched(): void {
    this.#manifestGets++;
  }

  async blobs(blobs: readonly Descriptor[]): Promise<void> {
    const fresh = blobs.filter(
      (blob, i) => !this.#blobs.has(blob.digest) && blobs.findIndex((b) => b.digest === blob.digest) === i,
    );
    for (const blob of fresh) this.#blobs.set(blob.digest, { size: blob.size, present: false });
    await Promise.all(
      fresh.map((blob) =>
        this.#heads.run(async () => {
          this.#blobs.set(blob.digest, { size: blob.size, present: await this.#destination.headBlob(blob) });
        }),
      ),
    );
  }

  async leave(): Promise<void> {}

  /** The plan of what was walked (nothing yet for an image that is up to date or whose tag is kept). */
  result(digest: Digest, status: CopyPlan['status'], note?: string): CopyPlan {
    const missing = [...this.#blobs.values()].filter((b) => !b.present);
    return {
      digest,
      status,
      missing: { blobs: missing.length, bytes: missing.reduce((n, b) => n + b.size, 0) },
      present: this.#blobs.size - missing.length,
      manifestGets: this.#manifestGets,
      ...(note === undefined ? {} : { note }),
    };
  }
}
