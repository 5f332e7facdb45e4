import { UsageError } from '../../oci/errors.js';
import { formatReference, type ImageReference, parseImageReference } from '../../oci/reference.js';
import { Limiter } from '../limiter.js';
import { mirrorPairs } from '../mirror.js';
import { type CatalogArtifact, expandOperators } from '../operators/expand-operators.js';
import { expandPlatform, type ReleaseSources } from '../release/expand-platform.js';
import { expandHelm, type HelmExpansion } from '../helm/expand-helm.js';
import type { HelmSources } from '../helm/http.js';
import { isBlocked } from './blocked.js';
import type { ImageSet } from './document.js';
import { compileTagPolicy } from './policy.js';
import type { SetImage } from './set-image.js';

export type { SetImage } from './set-image.js';

/**
 * The one port expansion reads sources through: the tags of a repository (all `tags/list`
 * pages); for `mirror.platform`, source repositories (release images and their layers) and the
 * update graph's GET. A caller without `repository` cannot expand a set with a platform section.
 */
export interface SetSources extends Partial<ReleaseSources>, Partial<HelmSources> {
  listTags(repository: ImageReference): Promise<string[]>;
}

/** The tags part of {@link SetSources}: all that a set without `mirror.platform` reads. */
export type TagLister = Pick<SetSources, 'listTags'>;

/** Where the set is mirrored: `<registry>[/<prefix>]`. */
export interface ExpandTarget {
  registry: string;
  prefix?: string;
}

export interface ExpandOptions {
  /** `listTags` calls (and release payload reads) in flight at once (default 4). */
  concurrency?: number;
  /** The update graph of `mirror.platform.channels` (`UPDATE_URL_OVERRIDE`); default: OpenShift's. */
  updateGraphUrl?: string;
  /** `mirror.helm`'s charts (generated artifacts to push) and the chart images that did not parse. */
  onHelm?: (helm: HelmExpansion) => void;
}

/**
 * Every image a (validated) set selects, with its destination:
 * - `additionalImages` in document order, by tag or by digest (`byDigest` when a digest is named);
 * - then each of `repositories` in order: its tags listed through `lister` (at most
 *   `concurrency` repositories at once, each repository once however often it is named), chosen
 *   by its tag policy (`selectTags` order), one image per tag;
 * - an image matching `blockedImages` (source or destination, see `isBlocked`) is kept with
 *   `blocked: true`, so callers report it and never copy it;
 * - the same source named twice is listed once (the first occurrence wins, platforms included).
 * - then `platform`'s release images and components (see `expandPlatform`), after the rest and
 *   deduplicated by destination, not source: a component two releases share keeps both tags.
 * Destinations are `mirrorPairs`'s (DESIGN.md: `<registry>/<prefix>/<source path>:<tag>`; digests kept).
 * A `listTags` failure rejects the whole expansion: a partial set would make prune delete tags.
 */
export async function expandImageSet(
  set: ImageSet,
  lister: SetSources,
  target: ExpandTarget,
  options: ExpandOptions = {},
): Promise<SetImage[]> {
  // Images only: a caller that copied them without the catalog serving them, or the charts naming
  // them, would make half a mirror. Callers that push those too use expandImageSetContent.
  for (const [section, present] of [
    ['mirror.operators', (set.operators?.length ?? 0) > 0],
    ['mirror.helm', set.helm !== undefined],
  ] as const)
    if (present) throw new UsageError(`${section}: this caller mirrors images only (not catalogs or charts)`);
  return (await expandImageSetContent(set, lister, target, options)).images;
}

/** A set's expansion: the images to copy, and the artifacts generated from content (rebuilt catalogs). */
export interface SetExpansion {
  images: SetImage[];
  /** One per `mirror.operators[]` entry, in document order. */
  artifacts: CatalogArtifact[];
}

/**
 * {@link expandImageSet} with `mirror.operators`: after the rest, each catalog's selected bundle
 * and related images (see `expandOperators`), deduplicated by source and destination against the
 * images before them, blocked images marked; and the rebuilt catalogs the caller pushes.
 */
export async function expandImageSetContent(
  set: ImageSet,
  lister: SetSources,
  target: ExpandTarget,
  options: ExpandOptions = {},
): Promise<SetExpansion> {
  const to =
    target.prefix === undefined || target.prefix === '' ? target.registry : `${target.registry}/${target.prefix}`;
  const limiter = new Limiter(options.concurrency ?? 4);
  // A repository named twice (two policies, or `nginx` and `docker.io/library/nginx`) is listed once.
  const listings = new Map<string, Promise<string[]>>();
  const listOnce = (ref: ImageReference): Promise<string[]> => {
    const key = formatReference(ref);
    let listing = listings.get(key);
    if (listing === undefined) {
      listing = limiter.run(() => lister.listTags(ref));
      listings.set(key, listing);
    }
    return listing;
  };
  const listed = await Promise.all(
    set.repositories.map((repo) => {
      const select = compileTagPolicy(repo.tags);
      const { registry, repository } = parseImageReference(repo.name);
      return listOnce({ registry, repository }).then((listedTags) => {
        const tags = select(listedTags);
        // As the document wrote the name: blockedImages are searched in that form too.
        return { images: tags.map((tag) => `${repo.name}:${tag}`), platforms: repo.platforms };
      });
    }),
  );

  const groups = [
    ...set.additionalImages.map((image) => ({ images: [image.name], platforms: image.platforms })),
    ...listed,
  ];
  const seen = new Set<string>();
  const out: SetImage[] = [];
  for (const { images, platforms } of groups) {
    for (const [i, { source, destination }] of mirrorPairs(images, to).entries()) {
      const name = formatReference(source);
      if (seen.has(name)) continue;
      seen.add(name);
      const dest = formatReference(destination);
      out.push({
        source: name,
        destination: dest,
        byDigest: source.digest !== undefined,
        ...(platforms === undefined ? {} : { platforms: [...platforms] }),
        ...(isBlocked(images[i]!, set.blockedImages, dest) ? { blocked: true } : {}),
      });
    }
  }
  if (set.platform !== undefined) {
    if (lister.repository === undefined) throw new Error('mirror.platform: this caller cannot read release images');
    const sources: ReleaseSources = {
      repository: (ref) => lister.repository!(ref),
      ...(lister.getJson === undefined ? {} : { getJson: (url: string) => lister.getJson!(url) }),
    };
    const releases = await expandPlatform(set.platform, sources, to, {
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.updateGraphUrl === undefined ? {} : { updateGraphUrl: options.updateGraphUrl }),
    });
    const taken = new Set(out.map((image) => image.destination));
    for (const image of releases) {
      if (taken.has(image.destination)) continue;
      taken.add(image.destination);
      out.push(isBlocked(image.source, set.blockedImages, image.destination) ? { ...image, blocked: true } : image);
    }
  }
  const artifacts: CatalogArtifact[] = [];
  if (set.operators !== undefined && set.operators.length > 0) {
    const { repository } = lister;
    if (repository === undefined) throw new Error('mirror.operators: this caller cannot read catalog images');
    const operators = await expandOperators(set.operators, { repository: (ref) => repository(ref) }, to, {
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    });
    const taken = new Set(out.map((image) => image.destination));
    for (const image of operators.images) {
      if (seen.has(image.source) || taken.has(image.destination)) continue;
      seen.add(image.source);
      taken.add(image.destination);
      out.push(isBlocked(image.source, set.blockedImages, image.destination) ? { ...image, blocked: true } : image);
    }
    artifacts.push(...operators.artifacts);
  }
  if (set.helm !== undefined) await expandHelmImages(set, lister, to, options, seen, out);
  return { images: out, artifacts };
}

/** `mirror.helm`: the charts go to `options.onHelm`; the images they name are added like additional images. */
async function expandHelmImages(
  set: ImageSet,
  lister: SetSources,
  to: string,
  options: ExpandOptions,
  seen: Set<string>,
  out: SetImage[],
): Promise<void> {
  const { getBytes, readLocal } = lister;
  if (getBytes === undefined) throw new Error('mirror.helm: this caller cannot read chart repositories');
  const helm = await expandHelm(
    set.helm!,
    { getBytes, ...(readLocal === undefined ? {} : { readLocal }) },
    to,
    options.concurrency === undefined ? {} : { concurrency: options.concurrency },
  );
  options.onHelm?.(helm);
  for (const image of helm.images) {
    const known = out.find((i) => i.source === image.reference);
    const where = image.foundIn.map((f) => `${image.chart} ${f}`);
    // Named by the set too (an additional image): one image, and the plan still says where the chart names it.
    if (known !== undefined) {
      known.foundIn = [...(known.foundIn ?? []), ...where];
      continue;
    }
    if (seen.has(image.reference)) continue;
    seen.add(image.reference);
    const { source, destination } = mirrorPairs([image.reference], to)[0]!;
    const dest = formatReference(destination);
    out.push({
      source: image.reference,
      destination: dest,
      byDigest: source.digest !== undefined,
      foundIn: where,
      ...(isBlocked(image.reference, set.blockedImages, dest) ? { blocked: true } : {}),
    });
  }
}
