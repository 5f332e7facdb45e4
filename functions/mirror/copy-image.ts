import { isDigest } from '../oci/digest.js';
import { silentLogger, type Logger } from '../oci/log.js';
import type { Manifest } from '../oci/manifest.js';
import type { ManifestHead, Repository, RepositoryRef } from '../oci/repository.js';
import type { BlobCopier } from './blob-copier.js';
import {
  type CopyOptions,
  type CopyPlan,
  type CopyResult,
  CopyTally,
  type PlanOptions,
  type PrepareDestination,
} from './copy-outcome.js';
import { PlanTally } from './copy-plan.js';
import { ImageParking, type ResumableCopyOptions, type ResumableCopyResult } from './image-parking.js';
import { Limiter } from './limiter.js';
import { type TreeWalk, walkTree } from './manifest-tree.js';
import { pickedDigest, selectPlatforms } from './platforms.js';
import { copyReferrers } from './referrers.js';

export type {
  BlobCounts,
  CopyOptions,
  CopyPlan,
  CopyResult,
  Mountable,
  MountLedger,
  PlanOptions,
  PrepareDestination,
} from './copy-outcome.js';
export { CopyTally } from './copy-outcome.js';
export type { ResumableCopyOptions, ResumableCopyResult } from './image-parking.js';

/** What the destination tag holds, as far as HEADs asked before the source manifest is read. */
type DestinationTag =
  /** Not asked up front: the destination is a digest, or platform filtering decides the digest to compare. */
  | { readonly kind: 'unasked' }
  /** It has the source's digest already: the image is up to date, found with HEADs alone. */
  | { readonly kind: 'current'; readonly head: ManifestHead }
  /** Absent (`head` undefined) or another digest. */
  | { readonly kind: 'differs'; readonly head: ManifestHead | undefined };

/**
 * The image to copy and what the destination holds: `current` when HEADs alone showed the
 * destination tag has the source digest; else the source manifest read (`original`), platforms
 * selected (`top`), the destination reference (`target`: the tag, or the digest), and `kept`
 * when its tag points elsewhere and is to be left alone.
 */
type Resolution =
  /** `manifestGets`: source manifests read to find it (the index one platform was picked from). */
  | { readonly kind: 'current'; readonly head: ManifestHead; readonly manifestGets?: number }
  | {
      readonly kind: 'resolved';
      readonly original: Manifest;
      readonly top: Manifest;
      readonly target: string;
      readonly existing: ManifestHead | undefined;
      readonly kept?: string;
    };

/** How an ImageCopier is built (see `createCopier` in engine.ts, which wires it to its BlobCopier). */
export interface ImageCopierOptions {
  /** Manifests (an index's children) handled at once per image; default 8. */
  readonly manifestConcurrency?: number;
  readonly logger?: Logger;
  readonly prepareDestination?: PrepareDestination;
}

/**
 * Copies one image or artifact: resolves the source manifest, skips when the destination
 * already has that digest, copies every blob through the ladder, pushes children before
 * their index and the tag last. Manifest bytes are pushed exactly as read.
 */
export class ImageCopier {
  readonly #blobs: BlobCopier;
  readonly #manifests: Limiter;
  /** A dry run's blob HEADs: apart from `#manifests`, whose slots the walk holds while it waits on them. */
  readonly #heads: Limiter;
  readonly #logger: Logger;
  readonly #prepare: PrepareDestination | undefined;

  constructor(blobs: BlobCopier, options: ImageCopierOptions = {}) {
    this.#blobs = blobs;
    this.#manifests = new Limiter(options.manifestConcurrency ?? 8);
    this.#heads = new Limiter(options.manifestConcurrency ?? 8);
    this.#logger = options.logger ?? silentLogger;
    this.#prepare = options.prepareDestination;
  }

  /** Creates the destination repository where the registry needs it (ECR); a no-op elsewhere. */
  prepare(destination: Repository): Promise<void> {
    return this.#prepare?.(destination) ?? Promise.resolve();
  }

  copy(from: RepositoryRef, to: RepositoryRef, options: CopyOptions = {}): Promise<CopyResult> {
    return this.#copy(from, to, options, undefined, new CopyTally());
  }

  /**
   * Copies an image that may not finish before `resumable.deadline`: large blobs go in chunked
   * uploads, and those still streaming near the deadline park. Then nothing above them is pushed
   * and the result is `continue` with the checkpoint to pass to the next invocation, which goes
   * on where this one stopped. Blob counts and bytes of the finished result cover every invocation.
   */
  async copyResumable(
    from: RepositoryRef,
    to: RepositoryRef,
    resumable: ResumableCopyOptions,
    options: CopyOptions = {},
  ): Promise<ResumableCopyResult> {
    const parking = new ImageParking(resumable);
    const tally = new CopyTally();
    const result = await this.#copy(from, to, options, parking, tally);
    if (parking.parked) return { status: 'continue', checkpoint: parking.checkpoint(tally) };
    return parking.finish(result, tally);
  }

  async #copy(
    from: RepositoryRef,
    to: RepositoryRef,
    options: CopyOptions,
    parking: ImageParking | undefined,
    tally: CopyTally,
  ): Promise<CopyResult> {
    const { repository: source } = from;
    const { repository: destination } = to;
    const found = await this.#resolve(from, to, options);
    const { digest, mediaType } = found.kind === 'current' ? found.head : found.top;
    const target = found.kind === 'current' ? to.reference : found.target;
    const result = (status: CopyResult['status'], extra: Partial<CopyResult> = {}): CopyResult => ({
      source: `${source.display}${refSuffix(from.reference)}`,
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
    const copyTree = (manifest: Manifest, reference: string) =>
      this.#copyTree({ ...this.#walk(from, to, options), tally, signal: options.signal, parking }, manifest, reference);
    if (found.kind === 'resolved' && !upToDate) {
      await this.prepare(destination);
      await copyTree(found.top, target);
    }
    // Referrers follow their subject: not while a blob of it is parked.
    const referrers =
      options.referrers && !parking?.parked ? await copyReferrers(source, destination, digest, copyTree) : undefined;
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
  async plan(from: RepositoryRef, to: RepositoryRef, options: PlanOptions = {}): Promise<CopyPlan> {
    const found = await this.#resolve(from, to, options);
    if (found.kind === 'current')
      return new PlanTally(to.repository, this.#heads, found.manifestGets ?? 0).result(found.head.digest, 'up-to-date');
    const { original, top } = found;
    // The source manifest, and the platform's own manifest when one platform was picked from an index.
    const tally = new PlanTally(to.repository, this.#heads, top === original || top.kind === 'index' ? 1 : 2);
    if (found.kept !== undefined) return tally.result(top.digest, 'tag-kept', found.kept);
    if (found.existing?.digest === top.digest) return tally.result(top.digest, 'up-to-date');
    await walkTree(this.#walk(from, to, options), top, found.target, tally);
    await tally.settle(from.repository, options.mounts);
    return tally.result(top.digest, 'would-copy');
  }

  async #resolve(from: RepositoryRef, to: RepositoryRef, options: CopyOptions): Promise<Resolution> {
    const { repository: source, reference: sourceRef } = from;
    const { repository: destination, reference: destinationRef } = to;
    const byDigest = isDigest(destinationRef);
    const tag = await this.#destinationTag(from, to, options);
    if (tag.kind === 'current') return { kind: 'current', head: tag.head };
    // The source manifest and the destination tag are looked up at once: one round trip saved per image.
    const [original, existingTag] = await Promise.all([
      source.getManifest(sourceRef),
      tag.kind === 'differs' ? tag.head : byDigest ? undefined : destination.headManifest(destinationRef),
    ]);
    // One platform picked out of an index that the destination tag already holds: up to date
    // without reading the child (a GET that registries such as Docker Hub count as a pull).
    const picked = byDigest ? undefined : pickedDigest(original, options.platforms ?? []);
    if (picked !== undefined && existingTag?.digest === picked)
      return { kind: 'current', head: existingTag, manifestGets: 1 };
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

  /**
   * Whether the destination tag (or digest) already has the source's digest, asked with HEADs only
   * (no manifest GET: registries such as Docker Hub count those as pulls). Only without platform
   * filtering, where the digest to copy is the source's own.
   */
  async #destinationTag(from: RepositoryRef, to: RepositoryRef, options: CopyOptions): Promise<DestinationTag> {
    if ((options.platforms ?? []).length > 0) return { kind: 'unasked' };
    const [wanted, head] = await Promise.all([
      isDigest(from.reference) ? from.reference : from.repository.headManifest(from.reference).then((h) => h?.digest),
      to.repository.headManifest(to.reference),
    ]);
    if (head === undefined || wanted !== head.digest) return { kind: 'differs', head };
    this.#logger.debug('destination already has this digest: skip image', {
      destination: `${to.repository.display}${refSuffix(to.reference)}`,
      digest: head.digest,
    });
    return { kind: 'current', head };
  }

  #walk(from: RepositoryRef, to: RepositoryRef, options: CopyOptions): TreeWalk {
    return {
      source: from.repository,
      destination: to.repository,
      manifests: this.#manifests,
      ...(options.includeForeignLayers ? { includeForeignLayers: true } : {}),
    };
  }

  /** Copies a manifest and everything below it, then pushes it under `reference` (a tag or its digest). */
  #copyTree(
    walk: TreeWalk & {
      readonly tally: CopyTally;
      readonly signal: AbortSignal | undefined;
      readonly parking: ImageParking | undefined;
    },
    manifest: Manifest,
    reference: string,
  ): Promise<{ subjectIndexed: boolean }> {
    const { parking } = walk;
    return walkTree(walk, manifest, reference, {
      blobs: async (blobs) => {
        const outcomes = await Promise.all(
          blobs.map((blob) => this.#blobs.copy(walk.source, walk.destination, blob, walk.signal, parking)),
        );
        outcomes.forEach((o, i) => {
          if (parking === undefined || parking.settle(blobs[i]!, o)) walk.tally.add(o);
        });
      },
      leave: (node, ref) => {
        // WARNING: nothing is pushed once the copy was aborted (a cancelled run must not gain a tag).
        walk.signal?.throwIfAborted();
        // WARNING: nor above a parked blob: a manifest goes only where all it references is.
        if (parking?.parked) return Promise.resolve({ subjectIndexed: false });
        return walk.destination.putManifest(ref, node);
      },
    });
  }
}

function refSuffix(reference: string): string {
  return isDigest(reference) ? `@${reference}` : `:${reference}`;
}
