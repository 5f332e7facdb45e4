import type { Digest } from '../oci/digest.js';
import type { Platform } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import type { BlobOutcome } from './blob-copier.js';

// The values an image copy takes and gives (apart from copy-image.ts, so the plan walk needs no ImageCopier).

/** What one image copy (or plan) takes along: platforms, referrers, tag policy, cancellation. */
export interface CopyOptions {
  /** Keep only these platforms of a multi-platform source (all when empty). */
  readonly platforms?: readonly Platform[];
  /** Also copy referrers (OCI 1.1 API or fallback tag) and cosign `.sig`/`.att`/`.sbom` tags. */
  readonly referrers?: boolean;
  /** Leave a destination tag that points at another digest alone (reported as skipped). Default: overwrite. */
  readonly keepExistingTags?: boolean;
  /** Fetch non-distributable (foreign) layers too; by default they are left where their `urls` point. */
  readonly includeForeignLayers?: boolean;
  readonly signal?: AbortSignal;
}

/** Blobs of one copy by ladder outcome. */
export interface BlobCounts {
  copied: number;
  mounted: number;
  skipped: number;
}

/** One image's result, the shape of `ferry copy --json`. */
export interface CopyResult {
  readonly source: string;
  readonly destination: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly status: 'copied' | 'skipped';
  readonly blobs: BlobCounts;
  readonly bytes: number;
  /** Set when several platforms built a new index (its digest differs from the source's); not for one platform's own manifest. */
  readonly digestChanged?: boolean;
  readonly referrers?: number;
  /** Why an image was skipped without being up to date (a differing tag kept). */
  readonly note?: string;
  /** For a copy parked at deadlines and resumed: invocations it took, and what happened on the way. */
  readonly resumed?: { readonly invocations: number; readonly notes: readonly string[] };
}

/** What copying one image would do, found without writing anything (a dry run). */
export interface CopyPlan {
  readonly digest: Digest;
  /** `up-to-date`: the destination has this digest; `tag-kept`: its tag points elsewhere and is kept. */
  readonly status: 'would-copy' | 'up-to-date' | 'tag-kept';
  /**
   * Distinct blobs the destination lacks, and their bytes: what a copy would move. `mountable`
   * is the part of them a copy would mount instead of stream (see {@link PlanOptions.mounts}):
   * its blobs are counted in `blobs` and its bytes in `bytes` too.
   */
  readonly missing: { readonly blobs: number; readonly bytes: number; readonly mountable: Mountable };
  /** Blobs the destination already has (skipped by a copy). */
  readonly present: number;
  /** Manifest GETs from the source a copy would make (what registries such as Docker Hub count as pulls). */
  readonly manifestGets: number;
  readonly note?: string;
}

/** Blobs a copy would mount from another repository of the destination registry, and their bytes. */
export interface Mountable {
  readonly blobs: number;
  readonly bytes: number;
}

/** A blob a plan walked: what a {@link MountLedger} keeps. */
export interface PlannedBlob {
  readonly digest: string;
  readonly size: number;
}

/**
 * Where the plans of one run learn which blobs an earlier plan already counted in another
 * repository of the same destination registry: those a copy would mount (the blob ladder mounts
 * from the repositories it has put or found a blob in, blob-ladder.ts).
 */
export interface MountLedger {
  /**
   * Of `missing` (blobs `repository` of `registry` lacks), those the ledger knows in another
   * repository of `registry`; then records every blob of `walked` as in `repository`.
   */
  settle(
    registry: string,
    repository: string,
    walked: readonly PlannedBlob[],
    missing: readonly PlannedBlob[],
  ): Promise<Mountable>;
}

/** What a plan takes along: a copy's options and the run's mount ledger. */
export interface PlanOptions extends CopyOptions {
  /**
   * Shared by the plans of one run, so that a blob an earlier image's plan counted (missing or
   * present) in another repository of the destination registry counts as mounted here. Without
   * one, only blobs of a source repository on the destination's own registry count as mountable.
   */
  readonly mounts?: MountLedger;
}

/** Makes sure a destination repository exists before anything is pushed (ECR creates none on push). */
export type PrepareDestination = (destination: Repository) => Promise<void>;

/** The tally of one copy: blob outcomes and bytes moved. */
export class CopyTally {
  readonly blobs: BlobCounts = { copied: 0, mounted: 0, skipped: 0 };
  bytes = 0;
  add(outcome: BlobOutcome): void {
    // A parked blob is counted when it is done, in the invocation that finishes it.
    if (outcome.kind !== 'parked') this.blobs[outcome.kind]++;
    this.bytes += outcome.bytes;
  }
}
