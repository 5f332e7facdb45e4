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
}

/** What copying one image would do, found without writing anything (a dry run). */
export interface CopyPlan {
  readonly digest: Digest;
  /** `up-to-date`: the destination has this digest; `tag-kept`: its tag points elsewhere and is kept. */
  readonly status: 'would-copy' | 'up-to-date' | 'tag-kept';
  /** Distinct blobs the destination lacks, and their bytes: what a copy would move. */
  readonly missing: { readonly blobs: number; readonly bytes: number };
  /** Blobs the destination already has (skipped by a copy). */
  readonly present: number;
  /** Manifest GETs from the source a copy would make (what registries such as Docker Hub count as pulls). */
  readonly manifestGets: number;
  readonly note?: string;
}

/** Makes sure a destination repository exists before anything is pushed (ECR creates none on push). */
export type PrepareDestination = (destination: Repository) => Promise<void>;

/** The tally of one copy: blob outcomes and bytes moved. */
export class CopyTally {
  readonly blobs: BlobCounts = { copied: 0, mounted: 0, skipped: 0 };
  bytes = 0;
  add(outcome: BlobOutcome): void {
    this.blobs[outcome.kind]++;
    this.bytes += outcome.bytes;
  }
}
