import type { Digest } from '../../oci/digest.js';
import { formatReference, type ImageReference, manifestRef, parseImageReference } from '../../oci/reference.js';
import type { Repository } from '../../oci/repository.js';
import type { SetImage } from '../image-set/set-image.js';
import { Limiter } from '../limiter.js';
import { mirrorPairs } from '../mirror.js';
import { readCatalogImage } from './catalog-image.js';
import type { OperatorCatalogSpec } from './catalog-spec.js';
import { CatalogError } from './errors.js';
import { parseCatalog } from './fbc.js';
import { parseCatalogFilter } from './filter.js';
import { images } from './images.js';
import type { Catalog } from './model.js';
import { selectCatalog } from './select.js';

// `mirror.operators`: each catalog image read through the source port, its selection made
// (oc-mirror's filter, select.ts), every bundle and related image of it mirrored like an
// additional image, and the rebuilt catalog described as a generated artifact the caller pushes.

/** What expanding `mirror.operators` reads through: source repositories (catalog images and their layers). */
export interface CatalogSources {
  repository(ref: ImageReference): Repository;
}

/**
 * A generated artifact of a set: the rebuilt catalog of one `mirror.operators[]` entry. It is a
 * deterministic function of the catalog at `sourceDigest` and the selection, so nothing of it is stored.
 */
export interface CatalogArtifact {
  readonly kind: 'operator-catalog';
  /** The catalog as the set names it, normalised (`quay.io/ns/index:v4.17`). */
  readonly source: string;
  /** The catalog as read, by digest (`quay.io/ns/index@sha256:…`): copied as it is before the rebuild. */
  readonly sourceDigest: string;
  /** `<registry>/<prefix>/<targetCatalog or the catalog's path>:<targetTag or the catalog's tag>`. */
  readonly destination: string;
  /**
   * The filtered catalog each platform manifest of the source (by digest) is rebuilt to serve;
   * empty when the catalog is mirrored whole (`full: true` without packages: copied, not rebuilt).
   */
  readonly rebuild: ReadonlyMap<Digest, Catalog>;
}

/** The images and artifacts of `mirror.operators`. */
export interface OperatorExpansion {
  readonly images: SetImage[];
  readonly artifacts: CatalogArtifact[];
}

/**
 * Expands `mirror.operators` against `sources`, mirroring to `to` (`<registry>[/<prefix>]`): per
 * entry (at most `concurrency` catalogs read at once) every platform of the catalog image is read
 * and selected from; the selected bundles' images and related images become images by digest
 * (`<to>/<source path>@digest`, as additionalImages), deduplicated across catalogs and sorted per
 * catalog. Any failure rejects the whole expansion: a catalog half selected would serve bundles
 * whose images were never mirrored.
 */
export async function expandOperators(
  specs: readonly OperatorCatalogSpec[],
  sources: CatalogSources,
  to: string,
  options: { readonly concurrency?: number } = {},
): Promise<OperatorExpansion> {
  const limiter = new Limiter(options.concurrency ?? 4);
  const expanded = await Promise.all(specs.map((spec) => limiter.run(() => expandCatalog(spec, sources, to))));
  const seen = new Set<string>();
  const out: SetImage[] = [];
  for (const { images: named } of expanded) {
    for (const { source, destination } of mirrorPairs(named, to)) {
      const name = formatReference(source);
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ source: name, destination: formatReference(destination), byDigest: source.digest !== undefined });
    }
  }
  return { images: out, artifacts: expanded.map((e) => e.artifact) };
}

async function expandCatalog(
  spec: OperatorCatalogSpec,
  sources: CatalogSources,
  to: string,
): Promise<{ images: string[]; artifact: CatalogArtifact }> {
  const ref = parseImageReference(spec.catalog);
  const tag = spec.targetTag ?? ref.tag;
  if (tag === undefined)
    throw new CatalogError('CATALOG_FILTER_INVALID', spec.catalog, 'a catalog without a tag needs a targetTag');
  const filter = parseCatalogFilter({
    ...(spec.full === undefined ? {} : { full: spec.full }),
    ...(spec.packages === undefined ? {} : { packages: spec.packages }),
  });
  const content = await readCatalogImage(sources.repository(ref), manifestRef(ref));
  const named = new Set<string>();
  const rebuild = new Map<Digest, Catalog>();
  for (const platform of content.platforms) {
    const selection = selectCatalog(parseCatalog(platform.files), filter);
    for (const image of images(selection)) named.add(image.image);
    if (!selection.whole) rebuild.set(platform.manifest.digest, selection.catalog);
  }
  const repository = spec.targetCatalog ?? ref.repository;
  return {
    images: [...named].sort(),
    artifact: {
      kind: 'operator-catalog',
      source: formatReference(ref),
      sourceDigest: `${ref.registry}/${ref.repository}@${content.top.digest}`,
      destination: `${to}/${repository}:${tag}`,
      rebuild,
    },
  };
}
