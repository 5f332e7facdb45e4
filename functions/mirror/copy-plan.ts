import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import type { CopyPlan, Mountable, MountLedger, PlannedBlob } from './copy-outcome.js';
import type { Limiter } from './limiter.js';
import type { TreeVisitor } from './manifest-tree.js';

const none: Mountable = { blobs: 0, bytes: 0 };

/**
 * A dry run's walk of a manifest tree: counts the manifest GETs a copy would make and HEADs
 * every distinct blob at the destination. Writes nothing.
 */
export class PlanTally implements TreeVisitor<void> {
  #manifestGets: number;
  #mountable: Mountable = none;
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

  /**
   * After the walk: which missing blobs a copy would mount rather than stream, as the blob ladder
   * decides (blob-ladder.ts): every one when the source is another repository of the destination's
   * registry (mounted from the source); else those `ledger` knows in another repository of that
   * registry (an earlier image of the run). Records the walked blobs in `ledger` either way.
   */
  async settle(source: Repository, ledger: MountLedger | undefined): Promise<void> {
    const registry = this.#destination.registry;
    if (registry === undefined) return;
    const walked = [...this.#blobs].map(([digest, b]): PlannedBlob => ({ digest, size: b.size }));
    const missing = walked.filter((b) => this.#blobs.get(b.digest)?.present === false);
    const fromLedger = ledger ? await ledger.settle(registry, this.#destination.name, walked, missing) : none;
    this.#mountable =
      source.registry === registry && source.name !== this.#destination.name ? sum(missing) : fromLedger;
  }

  /** The plan of what was walked (nothing yet for an image that is up to date or whose tag is kept). */
  result(digest: Digest, status: CopyPlan['status'], note?: string): CopyPlan {
    const missing = [...this.#blobs.values()].filter((b) => !b.present);
    return {
      digest,
      status,
      missing: { ...sum(missing), mountable: this.#mountable },
      present: this.#blobs.size - missing.length,
      manifestGets: this.#manifestGets,
      ...(note === undefined ? {} : { note }),
    };
  }
}

function sum(blobs: readonly { readonly size: number }[]): Mountable {
  return { blobs: blobs.length, bytes: blobs.reduce((n, b) => n + b.size, 0) };
}

/**
 * The mount ledger of one process: per destination registry, the repositories each blob was
 * counted in. Counts in the order `settle` is called: {@link OrderedMountLedger} makes that the
 * run's image order.
 */
export class MemoryMountLedger implements MountLedger {
  readonly #known = new Map<string, Set<string>>();

  settle(
    registry: string,
    repository: string,
    walked: readonly PlannedBlob[],
    missing: readonly PlannedBlob[],
  ): Promise<Mountable> {
    const elsewhere = (blob: PlannedBlob): boolean =>
      [...(this.#known.get(`${registry} ${blob.digest}`) ?? [])].some((r) => r !== repository);
    const mountable = sum(missing.filter(elsewhere));
    for (const blob of walked) {
      const key = `${registry} ${blob.digest}`;
      this.#known.set(key, (this.#known.get(key) ?? new Set()).add(repository));
    }
    return Promise.resolve(mountable);
  }
}

/**
 * A ledger whose plans settle in image order however they interleave, so that the first image
 * needing a blob streams it and the later ones mount it — the same count every run. Each image
 * `i` plans through `view(i)`, and `done(i)` must follow its plan whether it settled, skipped the
 * walk (up to date) or failed.
 * WARNING: image `i` waits for every image before it to be done: start plans in order (a FIFO
 * limiter does), or a later image can hold the slot an earlier one waits for.
 */
export class OrderedMountLedger {
  readonly #ledger: MountLedger;
  readonly #done: { promise: Promise<void>; resolve: () => void }[];

  constructor(images: number, ledger: MountLedger = new MemoryMountLedger()) {
    this.#ledger = ledger;
    this.#done = Array.from({ length: images }, () => {
      let resolve = (): void => {};
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    });
  }

  view(index: number): MountLedger {
    return {
      settle: async (registry, repository, walked, missing) => {
        await Promise.all(this.#done.slice(0, index).map((d) => d.promise));
        return this.#ledger.settle(registry, repository, walked, missing);
      },
    };
  }

  done(index: number): void {
    this.#done[index]?.resolve();
  }
}
