import { type Digest, isDigest } from '../oci/digest.js';
import { silentLogger, type Logger } from '../oci/log.js';
import { blobsOf, type Descriptor, type Manifest, type Platform } from '../oci/manifest.js';
import { foreignLayerMediaTypes } from '../oci/media-types.js';
import type { ManifestHead, Repository, RepositoryRef } from '../oci/repository.js';
import type { BlobCopier, BlobOutcome } from './blob-copier.js';
import { Limiter } from './limiter.js';
import { selectPlatforms } from './platforms.js';
import { copyReferrers } from './referrers.js';

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

/**
 * Copies one image or artifact: resolves the source manifest, skips when the destination
 * already has that digest, copies every blob through the ladder, pushes children before
 * their index and the tag last. Manifest bytes are pushed exactly as read.
 */
export class ImageCopier {
  readonly #blobs: BlobCopier;
  readonly #manifests: Limiter;
  readonly #logger: Logger;
  readonly #prepare: PrepareDestination | undefined;

  constructor(
    blobs: BlobCopier,
    options: { manifestConcurrency?: number; logger?: Logger; prepareDestination?: PrepareDestination } = {},
  ) {
    this.#blobs = blobs;
    this.#manifests = new Limiter(options.manifestConcurrency ?? 8);
    this.#logger = options.logger ?? silentLogger;
    this.#prepare = options.prepareDestination;
  }

  /** Creates the destination repository where the registry needs it (ECR); a no-op elsewhere. */
  prepare(destination: Repository): Promise<void> {
    return this.#prepare?.(destination) ?? Promise.resolve();
  }

  async copy(from: RepositoryRef, to: RepositoryRef, options: CopyOptions = {}): Promise<CopyResult> {
    const { repository: source, reference: sourceRef } = from;
    const { repository: destination, reference: destinationRef } = to;
    const found = await this.#resolve(source, sourceRef, destination, destinationRef, options);
    const tally = new CopyTally();
    const { digest, mediaType } = found.kind === 'current' ? found.head : found.top;
    const target = found.kind === 'current' ? destinationRef : found.target;
    const result = (status: CopyResult['status'], extra: Partial<CopyResult> = {}): CopyResult => ({
      source: `${source.display}${refSuffix(sourceRef)}`,
      destination: `${destination.display}${refSuffix(target)}`,
      digest,
      mediaType,
      status,
      blobs: tally.blobs,
      bytes: tally.bytes,
      ...extra,
    });
    if (found.kind === 'resolved' && found.kept !== undefined) return result('skipped', { note: found.kept });
    const upToDate = found.kind === 'current' || found.existing?.digest === digest;
    if (found.kind === 'resolved' && !upToDate) {
      await this.prepare(destination);
      await this.copyTree(source, destination, found.top, target, tally, options);
    }
    const referrers = options.referrers
      ? await copyReferrers(this, source, destination, digest, tally, options)
      : undefined;
    return result(upToDate && tally.blobs.copied === 0 && tally.blobs.mounted === 0 ? 'skipped' : 'copied', {
      // Only a new index changes the digest; one platform picked out of an index is that platform's own manifest.
      ...(found.kind === 'resolved' && found.top.kind === 'index' && digest !== found.original.digest
        ? { digestChanged: true }
        : {}),
      ...(referrers === undefined ? {} : { referrers }),
    });
  }

  /**
   * What `copy` would do, without writing: the same resolution and platform selection, then the
   * manifest tree walked with HEADs at the destination. Only manifests are read from the source.
   */
  async plan(from: RepositoryRef, to: RepositoryRef, options: CopyOptions = {}): Promise<CopyPlan> {
    const { repository: source, reference: sourceRef } = from;
    const { repository: destination, reference: destinationRef } = to;
    const found = await this.#resolve(source, sourceRef, destination, destinationRef, options);
    if (found.kind === 'current')
      return {
        digest: found.head.digest,
        status: 'up-to-date',
        missing: { blobs: 0, bytes: 0 },
        present: 0,
        manifestGets: 0,
      };
    const { original, top } = found;
    // The source manifest, and the platform's own manifest when one platform was picked from an index.
    const walk = {
      manifestGets: top === original || top.kind === 'index' ? 1 : 2,
      blobs: new Map<string, { size: number; present: boolean }>(),
    };
    const plan = (status: CopyPlan['status'], note?: string): CopyPlan => {
      const missing = [...walk.blobs.values()].filter((b) => !b.present);
      return {
        digest: top.digest,
        status,
        missing: { blobs: missing.length, bytes: missing.reduce((n, b) => n + b.size, 0) },
        present: walk.blobs.size - missing.length,
        manifestGets: walk.manifestGets,
        ...(note === undefined ? {} : { note }),
      };
    };
    if (found.kept !== undefined) return plan('tag-kept', found.kept);
    if (found.existing?.digest === top.digest) return plan('up-to-date');
    await this.#planTree(source, destination, top, walk, options);
    return plan('would-copy');
  }

  /**
   * The image to copy and what the destination holds: `current` when HEADs alone show the
   * destination tag has the source digest; else the source manifest read, platforms selected, the
   * destination reference (`target`: the tag, or the digest), and `kept` when its tag points
   * elsewhere and is to be left alone.
   */
  async #resolve(
    source: Repository,
    sourceRef: string,
    destination: Repository,
    destinationRef: string,
    options: CopyOptions,
  ): Promise<
    | { kind: 'current'; head: ManifestHead }
    | {
        kind: 'resolved';
        original: Manifest;
        top: Manifest;
        target: string;
        existing: ManifestHead | undefined;
        kept?: string;
      }
  > {
    const byDigest = isDigest(destinationRef);
    const current = await this.#upToDate(source, sourceRef, destination, destinationRef, options);
    if (current.head) return { kind: 'current', head: current.head };
    // The source manifest and the destination tag are looked up at once: one round trip saved per image.
    const [original, existingTag] = await Promise.all([
      source.getManifest(sourceRef),
      current.existing === null ? (byDigest ? undefined : destination.headManifest(destinationRef)) : current.existing,
    ]);
    const top = await selectPlatforms(source, original, options.platforms ?? []);
    const target = byDigest ? top.digest : destinationRef;
    const existing = byDigest ? await destination.headManifest(target) : existingTag;
    if (existing?.digest === top.digest)
      this.#logger.debug('destination already has this digest: skip image', {
        destination: `${destination.display}${refSuffix(target)}`,
        digest: top.digest,
      });
    const kept =
      existing !== undefined && existing.digest !== top.digest && options.keepExistingTags && !byDigest
        ? `destination tag exists with ${existing.digest}; not overridden`
        : undefined;
    return { kind: 'resolved', original, top, target, existing, ...(kept === undefined ? {} : { kept }) };
  }

  async #planTree(
    source: Repository,
    destination: Repository,
    manifest: Manifest,
    walk: { manifestGets: number; blobs: Map<string, { size: number; present: boolean }> },
    options: CopyOptions,
  ): Promise<void> {
    if (manifest.kind === 'index') {
      await Promise.all(
        manifest.index.manifests.map((child) =>
          this.#manifests.run(async () => {
            if ((await destination.headManifest(child.digest))?.digest === child.digest) return;
            walk.manifestGets++;
            await this.#planTree(source, destination, await source.getManifest(child.digest), walk, options);
          }),
        ),
      );
      return;
    }
    const blobs = blobsOf(manifest.image).filter(
      (blob) => (options.includeForeignLayers || !isForeign(blob)) && !walk.blobs.has(blob.digest),
    );
    for (const blob of blobs) walk.blobs.set(blob.digest, { size: blob.size, present: false });
    await Promise.all(
      blobs.map((blob) =>
        this.#manifests.run(async () => {
          walk.blobs.set(blob.digest, { size: blob.size, present: await destination.headBlob(blob) });
        }),
      ),
    );
  }

  /**
   * Whether the destination tag already has the source's digest, asked with HEADs only (no
   * manifest GET: registries such as Docker Hub count those as pulls). Only without platform
   * filtering, where the digest to copy is the source's own. `existing` is the destination tag's
   * HEAD when it was asked (`null`: not asked).
   */
  async #upToDate(
    source: Repository,
    sourceRef: string,
    destination: Repository,
    destinationRef: string,
    options: CopyOptions,
  ): Promise<{ head?: ManifestHead; existing: ManifestHead | undefined | null }> {
    if (isDigest(destinationRef) || (options.platforms ?? []).length > 0) return { existing: null };
    const [wanted, existing] = await Promise.all([
      isDigest(sourceRef) ? sourceRef : source.headManifest(sourceRef).then((h) => h?.digest),
      destination.headManifest(destinationRef),
    ]);
    if (existing !== undefined && wanted === existing.digest) {
      this.#logger.debug('destination already has this digest: skip image', {
        destination: `${destination.display}:${destinationRef}`,
        digest: existing.digest,
      });
      return { head: existing, existing };
    }
    return { existing };
  }

  /** Copies a manifest and everything below it, then pushes it under `reference` (a tag or its digest). */
  async copyTree(
    source: Repository,
    destination: Repository,
    manifest: Manifest,
    reference: string,
    tally: CopyTally,
    options: CopyOptions,
  ): Promise<{ subjectIndexed: boolean }> {
    if (manifest.kind === 'index') {
      await Promise.all(
        manifest.index.manifests.map((child) =>
          this.#manifests.run(async () => {
            if ((await destination.headManifest(child.digest))?.digest === child.digest) return;
            const childManifest = await source.getManifest(child.digest);
            await this.copyTree(source, destination, childManifest, child.digest, tally, options);
          }),
        ),
      );
    } else {
      const blobs = blobsOf(manifest.image).filter((blob) => options.includeForeignLayers || !isForeign(blob));
      const outcomes = await Promise.all(
        blobs.map((blob) => this.#blobs.copy(source, destination, blob, options.signal)),
      );
      outcomes.forEach((o) => tally.add(o));
    }
    // WARNING: nothing is pushed once the copy was aborted (a cancelled run must not gain a tag).
    options.signal?.throwIfAborted();
    return destination.putManifest(reference, manifest);
  }
}

function isForeign(blob: Descriptor): boolean {
  return foreignLayerMediaTypes.includes(blob.mediaType);
}

function refSuffix(reference: string): string {
  return isDigest(reference) ? `@${reference}` : `:${reference}`;
}
