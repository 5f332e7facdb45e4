import { compareStrings } from './model.js';
import type { Selection } from './select.js';

/** Where an image of a selection comes from: a bundle's own image, or one of its related images. */
export interface ImageOrigin {
  readonly package: string;
  readonly bundle: string;
  readonly kind: 'bundle' | 'related';
  /** The related image's name (opm lists the bundle image as a related image without one). */
  readonly name?: string;
}

/** One image to mirror and every place the selection names it. */
export interface CatalogImage {
  readonly image: string;
  readonly origins: readonly ImageOrigin[];
}

/**
 * Every bundle image and related image of the selected bundles, deduplicated by reference and
 * sorted, each with where it came from (as oc-mirror's catalog_handler.go getRelatedImagesFromCatalog
 * collects them: the bundle image, then its relatedImages). Empty references are skipped.
 */
export function images(selection: Selection): CatalogImage[] {
  const byImage = new Map<string, ImageOrigin[]>();
  const add = (image: string, origin: ImageOrigin): void => {
    if (image === '') return;
    const origins = byImage.get(image) ?? [];
    byImage.set(image, origins);
    origins.push(origin);
  };
  for (const b of selection.bundles) {
    add(b.image, { package: b.package, bundle: b.name, kind: 'bundle' });
    for (const r of b.relatedImages) {
      add(r.image, {
        package: b.package,
        bundle: b.name,
        kind: 'related',
        ...(r.name === undefined ? {} : { name: r.name }),
      });
    }
  }
  return [...byImage.keys()].sort(compareStrings).map((image) => ({ image, origins: byImage.get(image)! }));
}
