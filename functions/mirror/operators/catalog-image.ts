import { type Digest, verifyDigest } from '../../oci/digest.js';
import type { Descriptor, Manifest } from '../../oci/manifest.js';
import type { Repository } from '../../oci/repository.js';
import { type LayerEntry, normalizeLayerPath, readImageFiles, readLayerFiles } from '../content/layer-files.js';
import { CatalogError } from './errors.js';
import { defaultCatalogLimits } from './fbc.js';
import { configsDirOf, type CatalogImageConfig } from './rebuild.js';

// Reads a catalog image as opm serves it: per platform, the image config (the configs label) and
// the files under the configs directory, layers applied top-down with their whiteouts.

/** An image config is small; a larger one is refused rather than held in memory. */
const maxConfigBytes = 4 * 1024 * 1024;

/** One platform image of a catalog: its manifest, config bytes and the catalog's files (relative to the configs dir). */
export interface CatalogPlatformImage {
  readonly manifest: Extract<Manifest, { kind: 'image' }>;
  readonly configBytes: Buffer;
  readonly files: Map<string, Buffer>;
}

/** A catalog image as read: its top manifest (an index or one image) and each platform image. */
export interface CatalogImageContent {
  readonly top: Manifest;
  readonly platforms: readonly CatalogPlatformImage[];
}

/**
 * Reads the catalog at `reference` of `repository`: for an index each image entry (attestation
 * manifests, platform `unknown/unknown`, are skipped), else the one manifest. `platformFilter`
 * picks the entries to read (default: all).
 */
export async function readCatalogImage(
  repository: Repository,
  reference: string,
  platformFilter: (entry: Descriptor) => boolean = () => true,
): Promise<CatalogImageContent> {
  const top = await repository.getManifest(reference);
  const manifests: Extract<Manifest, { kind: 'image' }>[] = [];
  if (top.kind === 'image') manifests.push(top);
  else {
    for (const entry of top.index.manifests) {
      if (entry.platform?.os === 'unknown' || !platformFilter(entry)) continue;
      const child = await repository.getManifest(entry.digest);
      if (child.kind !== 'image')
        throw new CatalogError('CATALOG_INVALID', `${repository.display}@${entry.digest}`, 'a nested index');
      manifests.push(child);
    }
  }
  if (manifests.length === 0)
    throw new CatalogError('CATALOG_INVALID', `${repository.display}@${top.digest}`, 'no image manifest to read');
  // The platforms of a catalog share layers (the configs layer is usually the same bytes on every
  // architecture): each layer is streamed once per configs directory, not once per platform.
  const layers = new Map<string, Promise<LayerEntry[]>>();
  const platforms: CatalogPlatformImage[] = [];
  for (const manifest of manifests) platforms.push(await readPlatform(repository, manifest, layers));
  return { top, platforms };
}

async function readPlatform(
  repository: Repository,
  manifest: Extract<Manifest, { kind: 'image' }>,
  layers: Map<string, Promise<LayerEntry[]>>,
): Promise<CatalogPlatformImage> {
  const configBytes = await readBlob(repository, manifest.image.config, maxConfigBytes);
  const configsDir = normalizeLayerPath(configsDirOf(parseConfig(configBytes, repository.display, manifest.digest)));
  if (configsDir === '')
    throw new CatalogError('CATALOG_INVALID', `${repository.display}@${manifest.digest}`, 'the configs label names /');
  const prefix = `${configsDir}/`;
  const options = {
    want: (path: string) => path.startsWith(prefix),
    maxFileBytes: defaultCatalogLimits.maxFileBytes,
    maxTotalBytes: defaultCatalogLimits.maxTotalBytes,
  };
  const readLayer = (layer: Descriptor): Promise<LayerEntry[]> => {
    const key = `${prefix}\0${layer.digest}`;
    let read = layers.get(key);
    if (read === undefined) layers.set(key, (read = readLayerFiles(repository, layer, options)));
    return read;
  };
  const found = await readImageFiles(repository, manifest.image.layers, { ...options, readLayer });
  const files = new Map<string, Buffer>();
  for (const [path, bytes] of found) files.set(path.slice(prefix.length), bytes);
  return { manifest, configBytes, files };
}

function parseConfig(bytes: Buffer, display: string, digest: Digest): CatalogImageConfig | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as { config?: CatalogImageConfig } | null;
    return typeof value === 'object' && value !== null ? value.config : undefined;
  } catch (cause) {
    throw new CatalogError('CATALOG_INVALID', `${display}@${digest}`, 'image config is not JSON', { cause });
  }
}

/** A small blob's bytes, digest and size verified (a config: the catalog's label must be the one hashed). */
export async function readBlob(repository: Repository, descriptor: Descriptor, max: number): Promise<Buffer> {
  if (descriptor.size > max)
    throw new CatalogError('CATALOG_LIMIT', `${repository.display}@${descriptor.digest}`, `blob over ${max} bytes`);
  const { body, offset } = await repository.openBlob(descriptor, 0);
  if (offset !== 0) {
    body.destroy();
    throw new CatalogError('CATALOG_INVALID', `${repository.display}@${descriptor.digest}`, 'served from the middle');
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of verifyDigest(body as AsyncIterable<Buffer>, descriptor.digest, descriptor.size))
      chunks.push(chunk);
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks);
}
