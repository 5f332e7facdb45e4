import { z } from 'zod';
import { type Digest, digestOf, isDigest } from '../../oci/digest.js';
import { MediaType } from '../../oci/media-types.js';
import { CatalogError } from './errors.js';
import type { CatalogLayer } from './rebuild.js';

// The config and manifest of the rebuilt catalog: the original image plus the catalog layer
// (rebuild.ts). oc-mirror does this with go-containerregistry's mutate.Append and mutate.Config in
// internal/pkg/imagebuilder/builder.go ProcessImageIndex, setting `Cmd: ["serve", "/configs"]`:
// the original command usually carries `--cache-dir=/tmp/cache`, and `opm serve` with a cache
// directory enforces the cache's integrity by default (operator-registry cmd/opm/serve/serve.go),
// so with the cache removed it would refuse to start. Without the flag it builds a cache at start.

const digestSchema = z
  .string()
  .refine(isDigest, 'invalid digest')
  .transform((d) => d as Digest);
const configSchema = z.looseObject({
  rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(digestSchema) }),
  history: z.array(z.looseObject({})).optional(),
  config: z.looseObject({}).optional(),
});
const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
});
const manifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});

/** New bytes with their digest and size. */
export interface Blob {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly size: number;
}

/** The history entry of the catalog layer; `created` is fixed so that a rebuild is reproducible. */
export const catalogLayerHistory = {
  created: '1970-01-01T00:00:00Z',
  created_by: 'ferry: filtered operator catalog',
  comment: 'replaces the catalog with the selection and removes the opm cache',
} as const;

/**
 * The image config with the layer appended: its diff_id at the end of `rootfs.diff_ids`, a history
 * entry, and `config.Cmd` set to `["serve", configsDir]`. Every other field is kept as it was.
 */
export function appendLayerToConfig(
  configBytes: Buffer,
  layer: Pick<CatalogLayer, 'diffId'>,
  configsDir: string,
): Blob {
  const config = parse(configSchema, configBytes, 'image config');
  const updated = {
    ...config,
    rootfs: { ...config.rootfs, diff_ids: [...config.rootfs.diff_ids, layer.diffId] },
    history: [...(config.history ?? []), { ...catalogLayerHistory }],
    config: { ...(config.config ?? {}), Cmd: ['serve', configsDir] },
  };
  return blob(Buffer.from(JSON.stringify(updated)));
}

/**
 * The image manifest pointing at the new config with the layer appended, its media type chosen
 * from the manifest's family (Docker schema 2 or OCI).
 */
export function appendLayerToManifest(
  manifestBytes: Buffer,
  config: Pick<Blob, 'digest' | 'size'>,
  layer: Pick<CatalogLayer, 'digest' | 'size'>,
): Blob & { readonly mediaType: string } {
  const manifest = parse(manifestSchema, manifestBytes, 'image manifest');
  const docker =
    manifest.mediaType === MediaType.dockerManifest || manifest.config.mediaType === MediaType.dockerConfig;
  const updated = {
    ...manifest,
    config: { ...manifest.config, digest: config.digest, size: config.size },
    layers: [
      ...manifest.layers,
      { mediaType: docker ? MediaType.dockerLayer : MediaType.ociLayerGzip, digest: layer.digest, size: layer.size },
    ],
  };
  return {
    ...blob(Buffer.from(JSON.stringify(updated))),
    mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
  };
}

const indexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
});

/**
 * A multi-arch catalog's new index: each platform manifest that was rebuilt (old digest → new
 * manifest) replaced by its new descriptor, platform and annotations kept; the others unchanged.
 * Every replacement must name a manifest of the index.
 */
export function replaceIndexManifests(
  indexBytes: Buffer,
  rebuilt: ReadonlyMap<string, Pick<Blob, 'digest' | 'size'> & { readonly mediaType: string }>,
): Blob & { readonly mediaType: string } {
  const index = parse(indexSchema, indexBytes, 'image index');
  const missing = [...rebuilt.keys()].filter((d) => !index.manifests.some((m) => m.digest === d));
  if (missing.length > 0) throw new CatalogError('CATALOG_INVALID', 'image index', `no manifest ${missing.join(', ')}`);
  const manifests = index.manifests.map((m) => {
    const next = rebuilt.get(m.digest);
    return next === undefined ? m : { ...m, mediaType: next.mediaType, digest: next.digest, size: next.size };
  });
  const docker = index.mediaType === MediaType.dockerManifestList;
  return {
    ...blob(Buffer.from(JSON.stringify({ ...index, manifests }))),
    mediaType: docker ? MediaType.dockerManifestList : MediaType.ociIndex,
  };
}

function parse<T>(schema: z.ZodType<T>, bytes: Buffer, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new CatalogError('CATALOG_INVALID', what, 'not JSON', { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CatalogError('CATALOG_INVALID', what, parsed.error.issues[0]!.message);
  return parsed.data;
}

function blob(bytes: Buffer): Blob {
  return { bytes, digest: digestOf(bytes), size: bytes.length };
}
