import { type Digest, parseDigest } from '../oci/digest.js';
import { describeError, ErrorNames } from '../oci/errors.js';
import type { ManifestDeleter } from '../oci/manifest-deleter.js';
import { MediaType } from '../oci/media-types.js';
import { formatReference, type ImageReference, mirrorDestination, parseImageReference } from '../oci/reference.js';
import type { ManifestHead, Repository } from '../oci/repository.js';
import type { ImageSet } from './image-set/document.js';
import { expandImageSetContent, type ExpandTarget, type SetSources } from './image-set/expand.js';
import type { ChartArtifact } from './helm/expand-helm.js';
import { Limiter } from './limiter.js';
import type { DeletePlanItem } from './workspace/delete-plan.js';

/** What planning a prune reads through: the set's sources (its expansion) and the destination repositories. */
export interface PrunePlanPorts {
  /**
   * The set's sources, as `ferry mirror --config` expands the set through: tags of a source
   * repository (all pages), and for `mirror.platform` / `operators` / `helm` the release payloads,
   * catalogs, update graph and charts.
   */
  readonly source: SetSources;
  /** A destination repository, read with destination credentials. */
  readonly destination: (repository: ImageReference) => Repository;
}

/** A destination tag the set no longer selects that stays: deleting its digest would take a kept tag or image with it. */
export interface KeptTag {
  readonly destination: string;
  readonly digest: Digest;
  /** `shared-digest`: a selected tag (or image by digest, or an index holding it) still needs this manifest; `referrer`: a `sha256-<hex>` tag of a kept digest. */
  readonly reason: 'shared-digest' | 'referrer';
}

/** What {@link planPrune} found: the delete plan's items, and what it kept on purpose. */
export interface PrunePlan {
  /** Destination repositories listed (`registry/path`), sorted: every one lies under the target. */
  readonly repositories: string[];
  /** Tags to delete, by the digest they pointed at, sorted by destination. */
  readonly items: DeletePlanItem[];
  /** Unselected tags kept because their digest is still needed, sorted by destination. */
  readonly kept: KeptTag[];
  /**
   * Destination repositories not pruned (not even listed) because a source repository whose tags
   * they mirror by policy lists no tags: a repository gone at the source (or a typo, or a
   * registry answering 404 for a moment) must not wipe its mirror. Sorted.
   */
  readonly untouched: string[];
}

export interface PruneOptions {
  /** Repositories worked on at once (default 4). */
  readonly concurrency?: number;
  /** The update graph of `mirror.platform.channels` (`UPDATE_URL_OVERRIDE`); default: OpenShift's. */
  readonly updateGraphUrl?: string;
}

/** One destination repository the set covers: where it is, what it mirrors, what must stay. */
interface Covered {
  readonly repository: ImageReference;
  /** The source repository it mirrors (`registry/path`), for the plan's `imageName`. */
  readonly source: string;
  /** Source repositories whose tags a policy chooses for it. */
  readonly listedFrom: Set<string>;
  readonly tags: Set<string>;
  readonly digests: Set<Digest>;
}

/**
 * Plans a prune of `set` at `target` (`ferry prune --config`, issue 9): the delete plan's items.
 *
 * - Covered repositories: one per `repositories` entry and per `additionalImages` entry, named as
 *   `mirrorPairs` names them, so every one lies under the target and nothing else is ever listed
 *   (a repository dropped from the set is not covered: Ferry never walks `_catalog`).
 * - Selected: the set's expansion (the same source `listTags` and policy as a mirror run); its
 *   blocked images are *not* selected, so a blocked tag that an earlier run copied is pruned.
 * - Every tag of a covered repository (all pages) that is not selected is HEADed for its digest
 *   and planned by digest, unless that digest is still needed (a {@link KeptTag}): a registry
 *   deletes manifests, never tags, so deleting it would remove every tag on it, including the
 *   selected one. Needed: the digests of selected tags, of additional images by digest, and of
 *   the children of those that are indexes. A cosign/fallback tag `sha256-<hex>[.sig|.att|.sbom]`
 *   is kept when `<hex>` is needed, planned otherwise.
 * - Releases, catalogs and charts (`mirror.platform`, `operators`, `helm`) are expanded as a mirror
 *   run expands them and their images, charts and rebuilt catalogs count as selected, so a
 *   repository they share with an additional image keeps them; their own repositories are not
 *   covered (not pruned: which old release or bundle a cluster still pulls is not Ferry's to guess).
 * A listing or HEAD failure rejects the whole plan, and a policy whose source lists no tags leaves
 * its destination {@link PrunePlan.untouched}: a partial or failed listing must not become deletes.
 */
export async function planPrune(
  set: ImageSet,
  ports: PrunePlanPorts,
  target: ExpandTarget,
  options: PruneOptions = {},
): Promise<PrunePlan> {
  const to = target.prefix ? `${target.registry}/${target.prefix.replace(/^\/+|\/+$/g, '')}` : target.registry;
  const covered = new Map<string, Covered>();
  const names = [
    ...set.additionalImages.map((entry) => ({ name: entry.name, policy: false })),
    ...set.repositories.map((entry) => ({ name: entry.name, policy: true })),
  ];
  for (const { name, policy } of names) {
    const { registry, repository } = parseImageReference(name);
    const destination = mirrorDestination({ registry, repository }, to);
    const key = repositoryKey(destination);
    // Two sources may land on one destination (docker.io/x/app and quay.io/x/app): the first names it.
    let entry = covered.get(key);
    if (entry === undefined)
      covered.set(
        key,
        (entry = {
          repository: { registry: destination.registry, repository: destination.repository },
          source: `${registry}/${repository}`,
          listedFrom: new Set(),
          tags: new Set(),
          digests: new Set(),
        }),
      );
    if (policy) entry.listedFrom.add(`${registry}/${repository}`);
  }
  const emptySources = new Set<string>();
  const source: SetSources = {
    ...ports.source,
    listTags: async (ref) => {
      const tags = await ports.source.listTags(ref);
      if (tags.length === 0) emptySources.add(repositoryKey(ref));
      return tags;
    },
  };
  let charts: readonly ChartArtifact[] = [];
  const { images, artifacts } = await expandImageSetContent(set, source, target, {
    ...options,
    onHelm: (helm) => (charts = helm.charts),
  });
  const selected = [
    ...images.filter((image) => image.blocked !== true).map((image) => image.destination),
    ...charts.map((chart) => chart.destination),
    ...artifacts.map((catalog) => catalog.destination),
  ];
  for (const name of selected) {
    const destination = parseImageReference(name);
    const entry = covered.get(repositoryKey(destination));
    if (entry === undefined) continue;
    if (destination.digest !== undefined) entry.digests.add(destination.digest);
    else if (destination.tag !== undefined) entry.tags.add(destination.tag);
  }

  const concurrency = options.concurrency ?? 4;
  const limiter = new Limiter(concurrency);
  // HEADs for all repositories share one bound: a 500-tag repository must not open 500 requests.
  const requests = new Limiter(concurrency * 2);
  const untouched = [...covered].filter(([, entry]) => [...entry.listedFrom].some((s) => emptySources.has(s)));
  for (const [key] of untouched) covered.delete(key);
  const plans = await Promise.all(
    [...covered.values()].map((entry) =>
      limiter.run(() => planRepository(entry, ports.destination(entry.repository), requests)),
    ),
  );
  const byDestination = <T extends { destination: string }>(a: T, b: T): number =>
    compare(a.destination, b.destination);
  return {
    repositories: [...covered.keys()].sort(compare),
    items: plans.flatMap((p) => p.items).sort(byDestination),
    kept: plans.flatMap((p) => p.kept).sort(byDestination),
    untouched: untouched.map(([key]) => key).sort(compare),
  };
}

async function planRepository(
  entry: Covered,
  repository: Repository,
  requests: Limiter,
): Promise<Pick<PrunePlan, 'items' | 'kept'>> {
  const listed = await repository.listTags();
  const unselected = listed.filter((tag) => !entry.tags.has(tag));
  if (unselected.length === 0) return { items: [], kept: [] };
  const heads = new Map<string, ManifestHead>();
  await Promise.all(
    listed.map((tag) =>
      requests.run(async () => {
        const head = await repository.headManifest(tag);
        // A tag deleted since the listing has nothing left to prune (or to protect).
        if (head !== undefined) heads.set(tag, head);
      }),
    ),
  );
  const mediaTypes = new Map([...heads.values()].map((h) => [h.digest, h.mediaType]));
  const needed = new Set<Digest>(entry.digests);
  for (const tag of entry.tags) {
    const head = heads.get(tag);
    if (head !== undefined) needed.add(head.digest);
  }
  // WARNING: a registry DELETE of a platform manifest breaks every index that lists it.
  for (const digest of [...needed]) {
    const mediaType = mediaTypes.get(digest);
    if (mediaType !== undefined && !indexTypes.has(mediaType)) continue;
    const manifest = await repository.getManifest(digest).catch((err: unknown) => {
      // An image by digest not mirrored yet has no children to protect.
      if (err instanceof Error && err.name === ErrorNames.notFound) return undefined;
      throw err;
    });
    if (manifest?.kind === 'index') for (const child of manifest.index.manifests) needed.add(child.digest);
  }

  const base = repositoryKey(entry.repository);
  const items: DeletePlanItem[] = [];
  const kept: KeptTag[] = [];
  for (const tag of unselected) {
    const head = heads.get(tag);
    if (head === undefined) continue;
    const destination = `${base}:${tag}`;
    const subject = referrerSubject(tag);
    if (subject !== undefined && needed.has(subject))
      kept.push({ destination, digest: head.digest, reason: 'referrer' });
    else if (needed.has(head.digest)) kept.push({ destination, digest: head.digest, reason: 'shared-digest' });
    else items.push({ source: `${entry.source}:${tag}`, destination, digest: head.digest });
  }
  return { items, kept };
}

/** The outcome of one plan item: deleted, skipped (the tag moved or is gone), or failed. */
export interface PruneItemResult {
  readonly source: string;
  readonly destination: string;
  readonly digest: Digest;
  readonly status: 'deleted' | 'skipped' | 'failed';
  /** Why an item was skipped. */
  readonly reason?: 'tag moved' | 'tag gone';
  /** Where a moved tag points now. */
  readonly current?: Digest;
  /** Why an item failed. */
  readonly error?: string;
}

/** What carrying a plan out goes through. */
export interface PruneApplyPorts {
  /** A destination repository, with credentials that may delete. */
  readonly destination: (repository: ImageReference) => Repository;
  /** Registry DELETE, or ECR BatchDeleteImage (functions/aws/ecr-delete.ts). */
  readonly deleter: ManifestDeleter;
}

export interface ApplyPruneOptions extends PruneOptions {
  /** Called with each item's result as it is known. */
  readonly onResult?: (result: PruneItemResult) => void;
}

/**
 * Carries out a (parsed, `within`-checked) delete plan (`ferry prune --delete-yaml-file`): for each
 * item, HEAD its tag; a tag that now points at another digest is skipped (`tag moved`), a tag that
 * is gone is skipped (`tag gone`), else its digest is deleted through `deleter`. Items of one
 * repository run in plan order, one at a time, so two tags of one digest delete it once (the second
 * reports `deleted` too); repositories run `concurrency` at a time. Results come back in plan
 * order; a failed item does not stop the others.
 */
export async function applyPrune(
  items: readonly DeletePlanItem[],
  ports: PruneApplyPorts,
  options: ApplyPruneOptions = {},
): Promise<PruneItemResult[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = repositoryKey(parseImageReference(item.destination));
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const results: PruneItemResult[] = [];
  const limiter = new Limiter(options.concurrency ?? 4);
  await Promise.all(
    [...groups.values()].map((indexes) =>
      limiter.run(async () => {
        const ref = parseImageReference(items[indexes[0]!]!.destination);
        const repository = ports.destination({ registry: ref.registry, repository: ref.repository });
        const deleted = new Set<Digest>();
        for (const i of indexes) {
          results[i] = await applyItem(items[i]!, repository, ports.deleter, deleted);
          options.onResult?.(results[i]);
        }
      }),
    ),
  );
  return results;
}

async function applyItem(
  item: DeletePlanItem,
  repository: Repository,
  deleter: ManifestDeleter,
  deleted: Set<Digest>,
): Promise<PruneItemResult> {
  const { source, destination, digest } = item;
  const ref = parseImageReference(destination);
  const gone = (): PruneItemResult =>
    deleted.has(digest)
      ? { source, destination, digest, status: 'deleted' }
      : { source, destination, digest, status: 'skipped', reason: 'tag gone' };
  try {
    const head = await repository.headManifest(ref.tag ?? ref.digest ?? digest);
    if (head === undefined) return gone();
    if (head.digest !== digest)
      return { source, destination, digest, status: 'skipped', reason: 'tag moved', current: head.digest };
    await deleter.delete(repository, digest);
    deleted.add(digest);
    return { source, destination, digest, status: 'deleted' };
  } catch (err) {
    if (err instanceof Error && err.name === ErrorNames.notFound) return gone();
    return { source, destination, digest, status: 'failed', error: describeError(err) };
  }
}

const indexTypes: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);

/** `sha256-<hex>` (the referrers fallback tag) or cosign's `sha256-<hex>.sig|.att|.sbom`: the digest it belongs to. */
function referrerSubject(tag: string): Digest | undefined {
  const match = /^sha256-([0-9a-f]{64})(?:\.(?:sig|att|sbom))?$/.exec(tag);
  return match ? parseDigest(`sha256:${match[1]}`) : undefined;
}

function repositoryKey(ref: ImageReference): string {
  return formatReference({ registry: ref.registry, repository: ref.repository });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
