import { type Digest, digestHex } from '../../../functions/oci/digest.js';
import type { Descriptor, Manifest, Platform } from '../../../functions/oci/manifest.js';
import { MediaType } from '../../../functions/oci/media-types.js';
import type { RepositoryCall, MemoryRepository } from '../../support/memory-repository.js';

/** Images built straight into a MemoryRepository, for the engine's unit tier. */

export interface TestImage {
  readonly manifest: Manifest;
  readonly digest: Digest;
  /** Config and layers, in manifest order. */
  readonly blobs: readonly Descriptor[];
  readonly descriptor: Descriptor;
}

let counter = 0;
/** Distinct bytes for every call, so no two tests share a blob by accident. */
export function bytes(label: string, size = 64): Buffer {
  counter++;
  const text = `${label}#${counter}:`;
  return Buffer.from(text.padEnd(Math.max(size, text.length), '.'));
}

function descriptorOf(manifest: Manifest, platform?: Platform): Descriptor {
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.bytes.length,
    ...(platform ? { platform } : {}),
  };
}

/** An image whose config names `platform`, with `layers` layers of distinct bytes (or the blobs given). */
export function addImage(
  repo: MemoryRepository,
  options: {
    tag?: string;
    platform?: Platform;
    layers?: number | readonly (Buffer | Descriptor)[];
    foreign?: Descriptor[];
    subject?: Descriptor;
    artifactType?: string;
  } = {},
): TestImage {
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = options.artifactType
    ? repo.addBlob('{}', MediaType.ociEmpty)
    : repo.addBlob(JSON.stringify({ ...platform, rootfs: bytes('config', 8).toString() }), MediaType.ociConfig);
  const given = typeof options.layers === 'number' || options.layers === undefined ? undefined : options.layers;
  const layers = (given ?? Array.from({ length: (options.layers as number | undefined) ?? 2 }, () => bytes('layer')))
    .map((layer) => (Buffer.isBuffer(layer) ? repo.addBlob(layer, MediaType.ociLayerGzip) : layer))
    .concat(options.foreign ?? []);
  const manifest = repo.addManifest(
    {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      ...(options.artifactType ? { artifactType: options.artifactType } : {}),
      config,
      layers,
      ...(options.subject ? { subject: options.subject } : {}),
    },
    options.tag,
  );
  return { manifest, digest: manifest.digest, blobs: [config, ...layers], descriptor: descriptorOf(manifest) };
}

export interface TestIndex extends TestImage {
  readonly children: readonly TestImage[];
}

export const amd64: Platform = { os: 'linux', architecture: 'amd64' };
export const arm64: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
export const armv7: Platform = { os: 'linux', architecture: 'arm', variant: 'v7' };

/** A multi-platform index, one child image per platform. */
export function addIndex(repo: MemoryRepository, platforms: readonly Platform[], tag?: string): TestIndex {
  const children = platforms.map((platform) => addImage(repo, { platform, layers: 1 }));
  const manifest = repo.addManifest(
    {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: children.map((c, i) => descriptorOf(c.manifest, platforms[i])),
    },
    tag,
  );
  return {
    manifest,
    digest: manifest.digest,
    blobs: children.flatMap((c) => c.blobs),
    descriptor: descriptorOf(manifest),
    children,
  };
}

/** A signature-like artifact that refers to `subject`. */
export function addReferrer(
  repo: MemoryRepository,
  subject: Descriptor,
  artifactType = 'application/vnd.test.sig',
): TestImage {
  const referrer = addImage(repo, { subject, artifactType, layers: 1 });
  // A registry with the referrers API indexes the subject on push; setup bypasses the push.
  repo.referrersApi?.set(subject.digest, [...(repo.referrersApi.get(subject.digest) ?? []), referrer.descriptor]);
  return referrer;
}

/** The OCI 1.1 fallback tag of a subject. */
export function fallbackTagOf(digest: Digest): string {
  return `sha256-${digestHex(digest)}`;
}

/** An index under the fallback tag listing `referrers` (a source without the referrers API). */
export function addFallbackIndex(repo: MemoryRepository, subject: Digest, referrers: readonly TestImage[]): Manifest {
  return repo.addManifest(
    { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: referrers.map((r) => r.descriptor) },
    fallbackTagOf(subject),
  );
}

/** Calls that change a repository. */
export const writes: readonly RepositoryCall['op'][] = ['putManifest', 'writeBlob', 'mountBlob'];

export function writeCalls(repo: MemoryRepository): RepositoryCall[] {
  return repo.calls.filter((c) => writes.includes(c.op));
}

/** Forgets the calls so far (after setup copies). */
export function resetCalls(...repos: MemoryRepository[]): void {
  for (const repo of repos) repo.calls.length = 0;
}
