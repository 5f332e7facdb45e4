import { z } from 'zod';
import { CatalogError } from './errors.js';
import { appendLayerToConfig, appendLayerToManifest, type Blob } from './image-update.js';
import type { Catalog } from './model.js';
import { buildCatalogLayer, cacheDirOf, type CatalogLayer, configsDirOf } from './rebuild.js';
import { writeCatalog } from './write.js';

// One platform of a rebuilt catalog image, from the original's config and manifest and the
// filtered catalog: the steps of rebuild.ts and image-update.ts in order. Pushing the layer, the
// config and the manifest (and, for a multi-arch catalog, the index of replaceIndexManifests) is
// the caller's job.

const imageConfigSchema = z.looseObject({
  config: z
    .looseObject({
      Labels: z.record(z.string(), z.string()).nullable().optional(),
      Cmd: z.array(z.string()).nullable().optional(),
      Entrypoint: z.array(z.string()).nullable().optional(),
    })
    .optional(),
});

/** What to push for one platform: the new layer blob, config blob and manifest. */
export interface RebuiltCatalogImage {
  readonly configsDir: string;
  readonly cacheDir: string;
  readonly layer: CatalogLayer;
  readonly config: Blob;
  readonly manifest: Blob & { readonly mediaType: string };
}

/**
 * Rebuilds one platform image of a catalog to serve `catalog` (the selection's filtered catalog):
 * the configs directory and opm's cache located from the original config, the layer built, the
 * config and manifest updated.
 */
export async function rebuildCatalogImage(input: {
  readonly catalog: Catalog;
  readonly configBytes: Buffer;
  readonly manifestBytes: Buffer;
}): Promise<RebuiltCatalogImage> {
  let value: unknown;
  try {
    value = JSON.parse(input.configBytes.toString('utf8'));
  } catch (cause) {
    throw new CatalogError('CATALOG_INVALID', 'image config', 'not JSON', { cause });
  }
  const parsed = imageConfigSchema.safeParse(value);
  if (!parsed.success) throw new CatalogError('CATALOG_INVALID', 'image config', parsed.error.issues[0]!.message);
  const configsDir = configsDirOf(parsed.data.config);
  const cacheDir = cacheDirOf(parsed.data.config);
  const layer = await buildCatalogLayer({ files: writeCatalog(input.catalog), configsDir, cacheDir });
  const config = appendLayerToConfig(input.configBytes, layer, configsDir);
  const manifest = appendLayerToManifest(input.manifestBytes, config, layer);
  return { configsDir, cacheDir, layer, config, manifest };
}
