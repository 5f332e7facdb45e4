import { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import { verifyDigest } from '../../oci/digest.js';
import { type Descriptor, parseManifest } from '../../oci/manifest.js';
import { MediaType } from '../../oci/media-types.js';
import type { Repository } from '../../oci/repository.js';
import { addFallbackReferrer } from '../referrers.js';
import type { ArtifactBlob, PackedArtifact } from './pack.js';

/** What pushing an artifact did: the manifest's digest and size, and the blobs and bytes uploaded. */
export interface PushedArtifact {
  readonly digest: Digest;
  readonly size: number;
  readonly blobs: number;
  readonly bytes: number;
  /** For a referrer: how the subject knows it (the registry's referrers API, or the fallback tag index). */
  readonly indexedBy?: 'registry' | 'fallback-tag';
}

/** Uploads the blobs `repository` lacks (HEAD first), each through the digest verifier. */
async function pushBlobs(
  repository: Repository,
  blobs: readonly ArtifactBlob[],
): Promise<{ blobs: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const seen = new Set<string>();
  for (const blob of blobs) {
    const { descriptor } = blob;
    if (seen.has(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    if (await repository.headBlob(descriptor)) continue;
    const body = Readable.from(verifyDigest(blob.open(), descriptor.digest, descriptor.size), { objectMode: false });
    await repository.writeBlob(descriptor, body);
    count++;
    bytes += descriptor.size;
  }
  return { blobs: count, bytes };
}

/** `ferry push`: the blobs, then the manifest under `reference` (a tag, or its digest). */
export async function pushArtifact(
  repository: Repository,
  artifact: PackedArtifact,
  reference: string,
): Promise<PushedArtifact> {
  const uploaded = await pushBlobs(repository, artifact.blobs);
  await repository.putManifest(reference, parseManifest(artifact.manifest, MediaType.ociManifest, artifact.digest));
  return { digest: artifact.digest, size: artifact.manifest.length, ...uploaded };
}

/**
 * `ferry attach`: the artifact (whose manifest names `subject`) pushed by digest, never tagged;
 * when the registry does not say it indexed the subject (`OCI-Subject`), the referrer is added to
 * the subject's fallback tag index with the manifest's artifact type and annotations, as oras does.
 */
export async function attachArtifact(
  repository: Repository,
  artifact: PackedArtifact,
  subject: Digest,
): Promise<PushedArtifact> {
  const uploaded = await pushBlobs(repository, artifact.blobs);
  const manifest = parseManifest(artifact.manifest, MediaType.ociManifest, artifact.digest);
  const { subjectIndexed } = await repository.putManifest(artifact.digest, manifest);
  if (!subjectIndexed && manifest.kind === 'image') {
    const { artifactType, annotations, config } = manifest.image;
    const entry: Descriptor = {
      mediaType: MediaType.ociManifest,
      digest: artifact.digest,
      size: artifact.manifest.length,
      ...(annotations === undefined ? {} : { annotations }),
      artifactType: artifactType ?? config.mediaType,
    };
    await addFallbackReferrer(repository, subject, entry);
  }
  return {
    digest: artifact.digest,
    size: artifact.manifest.length,
    ...uploaded,
    indexedBy: subjectIndexed ? 'registry' : 'fallback-tag',
  };
}
