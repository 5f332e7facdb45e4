import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A seeded generator (xorshift128+) so failures reproduce: print the seed. */
export class Rng {
  #s0: bigint;
  #s1: bigint;
  constructor(readonly seed: number) {
    this.#s0 = BigInt(seed) | 1n;
    this.#s1 = ((BigInt(seed) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn) | 2n;
    for (let i = 0; i < 8; i++) this.#next();
  }
  #next(): bigint {
    let s1 = this.#s0;
    const s0 = this.#s1;
    this.#s0 = s0;
    s1 ^= (s1 << 23n) & 0xffffffffffffffffn;
    this.#s1 = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    return (this.#s1 + s0) & 0xffffffffffffffffn;
  }
  /** Random bytes: a seeded 64-byte block expanded by hashing, fast enough for MiB-sized layers. */
  bytes(size: number): Buffer {
    const out = Buffer.allocUnsafe(size);
    const seed = Buffer.alloc(16);
    seed.writeBigUInt64LE(this.#next(), 0);
    seed.writeBigUInt64LE(this.#next(), 8);
    for (let offset = 0, counter = 0; offset < size; offset += 64, counter++) {
      const block = createHash('sha512').update(seed).update(String(counter)).digest();
      block.copy(out, offset, 0, Math.min(64, size - offset));
    }
    return out;
  }
  int(max: number): number {
    return Number(this.#next() % BigInt(max));
  }
}

export interface BlobData {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly data: Buffer;
}

export interface BuiltManifest {
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Buffer;
  /** Blobs this manifest (and its children) need. */
  readonly blobs: readonly BlobData[];
  /** Children manifests, pushed before this one. */
  readonly children: readonly BuiltManifest[];
}

export const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export function blob(mediaType: string, data: Buffer): BlobData {
  return { mediaType, digest: sha256(data), size: data.length, data };
}

const descriptor = (b: { mediaType: string; digest: string; size: number }): object => ({
  mediaType: b.mediaType,
  digest: b.digest,
  size: b.size,
});

export interface ImageSpec {
  layers?: Buffer[];
  platform?: { os: string; architecture: string; variant?: string };
  docker?: boolean;
  artifactType?: string;
  configMediaType?: string;
  config?: Buffer;
  subject?: { mediaType: string; digest: string; size: number };
  annotations?: Record<string, string>;
  layerMediaType?: string;
}

/** An image or artifact manifest (OCI by default, Docker schema 2 with `docker`). */
export function buildImage(spec: ImageSpec): BuiltManifest {
  const docker = spec.docker === true;
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const layerType =
    spec.layerMediaType ??
    (docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip');
  const layers = (spec.layers ?? []).map((data) => blob(layerType, data));
  const rootfs = { type: 'layers', diff_ids: layers.map((l) => l.digest) };
  const configData =
    spec.config ??
    Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        rootfs,
      }),
    );
  const config = blob(
    spec.configMediaType ??
      (docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json'),
    configData,
  );
  const mediaType = docker
    ? 'application/vnd.docker.distribution.manifest.v2+json'
    : 'application/vnd.oci.image.manifest.v1+json';
  const doc = {
    schemaVersion: 2,
    mediaType,
    ...(spec.artifactType ? { artifactType: spec.artifactType } : {}),
    config: descriptor(config),
    layers: layers.map(descriptor),
    ...(spec.subject ? { subject: descriptor(spec.subject) } : {}),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(doc, null, 3)); // odd indentation: re-serialising would change the digest
  return { mediaType, digest: sha256(bytes), bytes, blobs: [config, ...layers], children: [] };
}

/** An index over images with their platforms (OCI, or a Docker manifest list with `docker`). */
export function buildIndex(
  entries: { image: BuiltManifest; platform: { os: string; architecture: string; variant?: string } }[],
  docker = false,
): BuiltManifest {
  const mediaType = docker
    ? 'application/vnd.docker.distribution.manifest.list.v2+json'
    : 'application/vnd.oci.image.index.v1+json';
  const doc = {
    schemaVersion: 2,
    mediaType,
    manifests: entries.map(({ image, platform }) => ({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.bytes.length,
      platform,
    })),
  };
  const bytes = Buffer.from(JSON.stringify(doc, null, 1));
  return { mediaType, digest: sha256(bytes), bytes, blobs: [], children: entries.map((e) => e.image) };
}

export type AuthHeader = (repository: string) => Promise<string | undefined>;
const noAuth: AuthHeader = () => Promise.resolve(undefined);

/** Pushes with plain fetch (independent of Ferry's client): blobs, children, then the manifest. */
export async function push(
  baseUrl: string,
  repository: string,
  reference: string,
  manifest: BuiltManifest,
  auth: AuthHeader = noAuth,
): Promise<void> {
  const headers = async (): Promise<Record<string, string>> => {
    const value = await auth(repository);
    return value ? { authorization: value } : {};
  };
  for (const child of manifest.children) await push(baseUrl, repository, child.digest, child, auth);
  for (const b of manifest.blobs) {
    const head = await fetch(`${baseUrl}/v2/${repository}/blobs/${b.digest}`, {
      method: 'HEAD',
      headers: await headers(),
    });
    if (head.status === 200) continue;
    const start = await fetch(`${baseUrl}/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
      headers: await headers(),
    });
    await start.arrayBuffer();
    if (start.status !== 202) throw new Error(`upload start ${start.status}`);
    const location = new URL(start.headers.get('location')!, baseUrl);
    location.searchParams.set('digest', b.digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...(await headers()), 'content-type': 'application/octet-stream' },
      body: b.data,
    });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`blob put ${put.status}`);
  }
  const res = await fetch(`${baseUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...(await headers()), 'content-type': manifest.mediaType },
    body: manifest.bytes,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest put ${res.status}: ${text}`);
}

/** Writes an OCI image layout holding `manifest` under `tag`. */
export async function writeLayout(dir: string, tag: string, manifest: BuiltManifest): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const write = async (m: BuiltManifest): Promise<void> => {
    for (const child of m.children) await write(child);
    for (const b of m.blobs) await writeFile(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.data);
    await writeFile(join(dir, 'blobs', 'sha256', m.digest.slice(7)), m.bytes);
  };
  await write(manifest);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.bytes.length,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

/** The manifest bytes' digest as the registry serves them (GET with every Accept type). */
export async function remoteDigest(
  baseUrl: string,
  repository: string,
  reference: string,
  auth: AuthHeader = noAuth,
): Promise<string | undefined> {
  const value = await auth(repository);
  const res = await fetch(`${baseUrl}/v2/${repository}/manifests/${reference}`, {
    headers: {
      accept:
        'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
      ...(value ? { authorization: value } : {}),
    },
  });
  if (res.status === 404) {
    await res.arrayBuffer();
    return undefined;
  }
  if (res.status !== 200) throw new Error(`GET manifest ${res.status}`);
  return sha256(Buffer.from(await res.arrayBuffer()));
}
