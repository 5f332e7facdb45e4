import { z } from 'zod';
import { type Digest, digestOf, isDigest } from './digest.js';
import { ManifestInvalidError } from './errors.js';
import {
  imageManifestMediaTypes,
  indexMediaTypes,
  maxManifestBytes,
  MediaType,
  schema1MediaTypes,
} from './media-types.js';

const digestSchema = z
  .string()
  .refine(isDigest, 'invalid digest')
  .transform((d) => d as Digest);

export const platformSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
});
export type Platform = z.infer<typeof platformSchema>;

export const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: platformSchema.optional(),
  artifactType: z.string().optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

const indexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const imageSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export type IndexManifest = z.infer<typeof indexSchema>;
export type ImageManifest = z.infer<typeof imageSchema>;

/** A manifest as read: its exact bytes (never re-serialised), its media type and digest, and its parsed form. */
export type Manifest =
  | {
      readonly kind: 'index';
      readonly mediaType: string;
      readonly digest: Digest;
      readonly bytes: Buffer;
      readonly index: IndexManifest;
    }
  | {
      readonly kind: 'image';
      readonly mediaType: string;
      readonly digest: Digest;
      readonly bytes: Buffer;
      readonly image: ImageManifest;
    };

/**
 * Parses manifest bytes. The media type comes from the document's `mediaType` field, else the
 * response's `Content-Type`, else the document's shape (OCI allows omitting it).
 */
export function parseManifest(bytes: Buffer, contentType?: string, digest?: Digest): Manifest {
  if (bytes.length > maxManifestBytes) {
    throw new ManifestInvalidError(`manifest is ${bytes.length} bytes; the limit is ${maxManifestBytes}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ManifestInvalidError('manifest is not valid JSON', { cause: err });
  }
  const header = contentType?.split(';')[0]?.trim();
  const declared =
    typeof doc === 'object' && doc !== null && 'mediaType' in doc && typeof doc.mediaType === 'string'
      ? doc.mediaType
      : undefined;
  const schemaVersion =
    typeof doc === 'object' && doc !== null && 'schemaVersion' in doc ? doc.schemaVersion : undefined;
  if (schemaVersion === 1 || schema1MediaTypes.includes(declared ?? '') || schema1MediaTypes.includes(header ?? '')) {
    throw new ManifestInvalidError(
      'Docker schema 1 manifests are deprecated and not supported; re-push the image with a current client (schema 2 or OCI)',
    );
  }
  const hasManifests = typeof doc === 'object' && doc !== null && 'manifests' in doc;
  const mediaType =
    declared ??
    (header && header !== 'application/json' ? header : hasManifests ? MediaType.ociIndex : MediaType.ociManifest);
  const actualDigest = digest ?? digestOf(bytes);
  if (indexMediaTypes.includes(mediaType) || (hasManifests && !imageManifestMediaTypes.includes(mediaType))) {
    const parsed = indexSchema.safeParse(doc);
    if (!parsed.success)
      throw new ManifestInvalidError(`invalid index (${mediaType}): ${z.prettifyError(parsed.error)}`);
    return { kind: 'index', mediaType, digest: actualDigest, bytes, index: parsed.data };
  }
  const parsed = imageSchema.safeParse(doc);
  if (!parsed.success)
    throw new ManifestInvalidError(`invalid manifest (${mediaType}): ${z.prettifyError(parsed.error)}`);
  return { kind: 'image', mediaType, digest: actualDigest, bytes, image: parsed.data };
}

/** The blobs an image manifest references: config first, then layers. */
export function blobsOf(manifest: ImageManifest): Descriptor[] {
  return [manifest.config, ...manifest.layers];
}

/** The artifact type as the referrers API reports it: `artifactType`, else the config media type. */
export function artifactTypeOf(manifest: Manifest): string | undefined {
  if (manifest.kind === 'index') return manifest.index.artifactType;
  return manifest.image.artifactType ?? manifest.image.config.mediaType;
}

/** A descriptor for a manifest, as an index lists it. */
export function describeManifest(manifest: Manifest): Descriptor {
  const artifactType = artifactTypeOf(manifest);
  const annotations = manifest.kind === 'index' ? manifest.index.annotations : manifest.image.annotations;
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.bytes.length,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

/** `os/arch[/variant]` */
export function formatPlatform(platform: Platform | undefined): string {
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter((p) => p !== undefined && p !== '').join('/');
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(value: string): Platform {
  const parts = value.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new ManifestInvalidError(`invalid platform "${value}": expected OS/ARCH[/VARIANT]`);
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return { os, architecture, ...(variant === undefined ? {} : { variant }) };
}

/** Whether an index entry's platform matches a wanted one (`arm64` without variant matches `v8`, as containerd does). */
export function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  if (wanted.variant === undefined) return true;
  const normalise = (p: Platform): string | undefined =>
    p.architecture === 'arm64' && (p.variant === undefined || p.variant === 'v8') ? 'v8' : p.variant;
  return normalise(candidate) === normalise(wanted);
}

const nodeArchitectures: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** The OCI `architecture` of a Node.js `process.arch` (`x64` → `amd64`); undefined for one registries have no name for. */
export function ociArchitecture(nodeArch: string): string | undefined {
  return nodeArchitectures[nodeArch];
}
