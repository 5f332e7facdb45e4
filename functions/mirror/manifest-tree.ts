import { blobsOf, type Descriptor, type Manifest } from '../oci/manifest.js';
import { foreignLayerMediaTypes } from '../oci/media-types.js';
import type { Repository } from '../oci/repository.js';
import type { Limiter } from './limiter.js';

/**
 * What a walk of a manifest tree does at each step. A copy moves blobs and pushes each manifest;
 * a plan only counts and HEADs: both walk the same tree the same way ({@link walkTree}).
 */
export interface TreeVisitor<T> {
  /** A child manifest the destination lacks was read from the source (one manifest GET). */
  fetched?(digest: string): void;
  /** The blobs of an image manifest, foreign layers already dropped unless they were asked for. */
  blobs(blobs: readonly Descriptor[]): Promise<void>;
  /** A manifest whose children (or blobs) are all done, and the tag or digest it goes under. */
  leave(manifest: Manifest, reference: string): Promise<T>;
}

/** The two repositories a tree is walked between, and the bound on manifests handled at once. */
export interface TreeWalk {
  readonly source: Repository;
  readonly destination: Repository;
  readonly manifests: Limiter;
  readonly includeForeignLayers?: boolean;
}

/**
 * Walks a manifest tree children first: an index's children the destination lacks are read from
 * the source and walked (at most `manifests` at once), an image's blobs are handed over, and
 * every manifest is left only after everything below it — so a copy pushes children before
 * their index and the tag last.
 */
export async function walkTree<T>(
  walk: TreeWalk,
  manifest: Manifest,
  reference: string,
  visitor: TreeVisitor<T>,
): Promise<T> {
  if (manifest.kind === 'index') {
    await Promise.all(
      manifest.index.manifests.map((child) =>
        walk.manifests.run(async () => {
          if ((await walk.destination.headManifest(child.digest))?.digest === child.digest) return;
          const childManifest = await walk.source.getManifest(child.digest);
          visitor.fetched?.(child.digest);
          await walkTree(walk, childManifest, child.digest, visitor);
        }),
      ),
    );
  } else {
    await visitor.blobs(blobsOf(manifest.image).filter((blob) => walk.includeForeignLayers || !isForeign(blob)));
  }
  return visitor.leave(manifest, reference);
}

/** Non-distributable layers: left where their `urls` point unless a copy asks for them. */
export function isForeign(blob: Descriptor): boolean {
  return foreignLayerMediaTypes.includes(blob.mediaType);
}
