import { Readable } from 'node:stream';
import { type Digest, verifyDigest } from '../../oci/digest.js';
import { type Descriptor, type Manifest, parseManifest } from '../../oci/manifest.js';
import { parseImageReference } from '../../oci/reference.js';
import type { Repository, RepositoryRef } from '../../oci/repository.js';
import type { CopyOptions, ImageCopier } from '../copy-image.js';
import { readBlob } from './catalog-image.js';
import { CatalogError } from './errors.js';
import type { CatalogArtifact } from './expand-operators.js';
import type { Blob } from './image-update.js';
import { replaceIndexManifests } from './image-update.js';
import { rebuildCatalogImage } from './rebuild-image.js';

// Pushes a rebuilt catalog (a CatalogArtifact) into the destination repository where the original
// catalog was already copied by digest: per rebuilt platform the new layer, config and manifest,
// then for a multi-arch catalog the new index, and the tag last, so that a reader of the tag never
// sees a manifest whose blobs are missing. Rebuilds are deterministic: a second run computes the
// same digest, finds the tag on it and writes nothing.

/** A config is small; the limit only guards memory. */
const maxConfigBytes = 4 * 1024 * 1024;

/** What pushing a catalog did: the tagged manifest's digest, and whether anything was written. */
export interface PushedCatalog {
  /** `<destination repository>@<digest>`: what the CatalogSource and ClusterCatalog name. */
  readonly reference: string;
  readonly digest: Digest;
  readonly status: 'pushed' | 'up-to-date';
}

/** A blob or manifest to write: the bytes and their descriptor. */
interface Pending {
  readonly blobs: { readonly descriptor: Descriptor; readonly bytes: Buffer }[];
  /** Platform manifests (by digest) first, then the tagged one. */
  readonly manifests: Manifest[];
}

/**
 * A catalog published: the original copied by digest — every platform, its index is rebuilt whole,
 * and no tag moves yet — then the rebuilt one pushed and tagged ({@link pushRebuiltCatalog}).
 * `source` is the original by digest. The one path of `ferry mirror --config` and of a run's Finish.
 */
export async function publishCatalog(
  artifact: CatalogArtifact,
  copier: ImageCopier,
  source: RepositoryRef,
  destination: Repository,
  options: CopyOptions,
): Promise<PushedCatalog & { readonly bytes: number }> {
  const copied = await copier.copy(source, { repository: destination, reference: source.reference }, options);
  return { ...(await pushRebuiltCatalog(artifact, destination)), bytes: copied.bytes };
}

/**
 * Pushes `artifact` into `destination` (the repository of `artifact.destination`), which must
 * already hold the original catalog at `artifact.sourceDigest`'s digest with its children and blobs.
 */
export async function pushRebuiltCatalog(artifact: CatalogArtifact, destination: Repository): Promise<PushedCatalog> {
  const target = parseImageReference(artifact.destination);
  const sourceDigest = parseImageReference(artifact.sourceDigest).digest;
  if (target.tag === undefined || sourceDigest === undefined)
    throw new CatalogError(
      'CATALOG_INVALID',
      artifact.destination,
      'a rebuilt catalog needs a tag and a source digest',
    );
  const top = await destination.getManifest(sourceDigest);
  const pending: Pending = { blobs: [], manifests: [] };
  let tagged: Manifest = top;
  if (artifact.rebuild.size > 0) {
    const replaced = new Map<string, Blob & { mediaType: string }>();
    for (const [digest, catalog] of artifact.rebuild) {
      const original = await destination.getManifest(digest);
      if (original.kind !== 'image')
        throw new CatalogError('CATALOG_INVALID', `${destination.display}@${digest}`, 'not an image manifest');
      const configBytes = await readBlob(destination, original.image.config, maxConfigBytes);
      const rebuilt = await rebuildCatalogImage({ catalog, configBytes, manifestBytes: original.bytes });
      const manifest = parseManifest(rebuilt.manifest.bytes, rebuilt.manifest.mediaType);
      const layer = manifest.kind === 'image' ? manifest.image.layers.at(-1) : undefined;
      if (layer === undefined) throw new CatalogError('CATALOG_INVALID', digest, 'the rebuilt manifest has no layer');
      const config = { ...original.image.config, digest: rebuilt.config.digest, size: rebuilt.config.size };
      pending.blobs.push(
        { descriptor: layer, bytes: rebuilt.layer.bytes },
        { descriptor: config, bytes: rebuilt.config.bytes },
      );
      pending.manifests.push(manifest);
      replaced.set(digest, rebuilt.manifest);
    }
    if (top.kind === 'index') {
      const index = replaceIndexManifests(top.bytes, replaced);
      tagged = parseManifest(index.bytes, index.mediaType);
    } else {
      tagged = pending.manifests.pop()!;
    }
  }
  const reference = `${target.registry}/${target.repository}@${tagged.digest}`;
  const current = await destination.headManifest(target.tag);
  if (current?.digest === tagged.digest) return { reference, digest: tagged.digest, status: 'up-to-date' };
  for (const { descriptor, bytes } of pending.blobs) {
    if (await destination.headBlob(descriptor)) continue;
    const body = Readable.from(verifyDigest(toChunks(bytes), descriptor.digest, descriptor.size), {
      objectMode: false,
    });
    await destination.writeBlob(descriptor, body);
  }
  for (const manifest of pending.manifests) await destination.putManifest(manifest.digest, manifest);
  await destination.putManifest(target.tag, tagged);
  return { reference, digest: tagged.digest, status: 'pushed' };
}

async function* toChunks(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}
