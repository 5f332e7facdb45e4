import { type CatalogArtifact, expandOperators } from '../mirror/operators/expand-operators.js';
import { publishCatalog } from '../mirror/operators/push-catalog.js';
import { CatalogError } from '../mirror/operators/errors.js';
import { describeError } from '../oci/errors.js';
import type { Logger } from '../oci/log.js';
import { parseImageReference } from '../oci/reference.js';
import { type RunEngine, runImage } from './engine.js';
import { runImageSet } from './expand-run.js';
import { type ImageArtifact, type ImageRecord, openImageStatuses, type RunRecord } from './model.js';
import type { ImageOutcome } from './store.js';
import type { RunTaskDeps } from './task-deps.js';

// Finish's part of a run of a set with `mirror.operators` (issue 10): a rebuilt catalog serves
// its bundles, so it is pushed only once every image of the run is mirrored. Nothing generated
// was stored: each catalog is re-derived from the run's document and the catalog at the digest
// Plan read, then pushed as the CLI pushes it (the original by digest, then the rebuilt layer,
// configs, manifests, index and tag).

type CatalogInputs = Extract<ImageArtifact, { kind: 'catalog' }>;
type CatalogItem = ImageRecord & { readonly artifact: CatalogInputs };
type RunContent = Awaited<ReturnType<typeof runImageSet>>;

/** Why a run's catalogs are not rebuilt when an image of it failed (or was never copied). */
export const catalogsNotRebuilt = 'not rebuilt: images failed';

/**
 * Pushes (or, in a dry run, names) the run's pending catalog items and records each. A run that
 * is no longer in progress (cancelled, stopped by failFast) is left to Finish's closing of open
 * items. A catalog that fails is recorded failed; the next one still runs.
 */
export async function pushCatalogItems(
  deps: Pick<RunTaskDeps, 'store' | 'engines'>,
  logger: Logger,
  run: RunRecord,
): Promise<void> {
  const { store } = deps;
  // Catalog items come only from image sets, and only a run in progress pushes them: no read otherwise.
  if (run.options.imageSet === undefined || run.status !== 'in-progress') return;
  const images = await store.listImages(run.runId);
  const catalogs = images.filter(
    (i): i is CatalogItem => i.artifact?.kind === 'catalog' && openImageStatuses.includes(i.status),
  );
  if (catalogs.length === 0 || run.status !== 'in-progress') return;
  const finish = (item: CatalogItem, outcome: ImageOutcome): Promise<boolean> =>
    store.finishImage(run.runId, item.index, outcome);
  if (run.options.dryRun) {
    for (const item of catalogs)
      await finish(item, { status: 'skipped', message: `dry run: catalog would be rebuilt as ${item.destination}` });
    return;
  }
  const others = images.filter((i) => i.artifact?.kind !== 'catalog');
  if (others.some((i) => i.status === 'failed' || openImageStatuses.includes(i.status))) {
    for (const item of catalogs) await finish(item, { status: 'failed', message: catalogsNotRebuilt });
    return;
  }
  const engine = deps.engines.forRun(run);
  // The run's document, read and parsed once for all its catalogs.
  const content = runImageSet(store, run);
  content.catch(() => undefined); // each catalog reports the failure as its own
  for (const item of catalogs) {
    try {
      await finish(item, await pushCatalogItem(await content, engine, run, item));
    } catch (err) {
      logger.warn('catalog not rebuilt', { runId: run.runId, index: item.index, error: describeError(err) });
      await finish(item, { status: 'failed', message: describeError(err) });
    }
  }
}

/** The catalog of `item` re-derived: its `mirror.operators[]` entry, read at the digest Plan read. */
async function deriveCatalog(
  { set, target }: RunContent,
  engine: RunEngine,
  item: CatalogItem,
): Promise<CatalogArtifact> {
  const spec = set.operators?.[item.artifact.operator];
  if (spec === undefined)
    throw new CatalogError(
      'CATALOG_INVALID',
      item.source,
      `the run's set has no mirror.operators[${item.artifact.operator}]`,
    );
  const to = target.prefix ? `${target.registry}/${target.prefix}` : target.registry;
  // Read by digest (what Plan selected the images from), pushed under the tag the set names.
  const pinned = {
    ...spec,
    catalog: item.artifact.sourceDigest,
    targetTag: spec.targetTag ?? parseImageReference(spec.catalog).tag,
  };
  const { artifacts } = await expandOperators(
    [pinned],
    { repository: (ref) => runImage(engine, ref, 'source').repository },
    to,
  );
  const artifact = artifacts[0];
  if (artifact === undefined || artifact.destination !== item.destination)
    throw new CatalogError(
      'CATALOG_INVALID',
      item.source,
      `now rebuilds to ${artifact?.destination}, not ${item.destination}`,
    );
  return artifact;
}

async function pushCatalogItem(
  content: RunContent,
  engine: RunEngine,
  run: RunRecord,
  item: CatalogItem,
): Promise<ImageOutcome> {
  const artifact = await deriveCatalog(content, engine, item);
  const target = parseImageReference(artifact.destination);
  const destination = engine.repository(
    { kind: 'registry', ref: { registry: target.registry, repository: target.repository } },
    'destination',
  );
  const source = runImage(engine, parseImageReference(artifact.sourceDigest), 'source');
  const pushed = await publishCatalog(artifact, engine.copier, source, destination, {
    referrers: run.options.referrers,
  });
  return {
    status: pushed.status === 'pushed' ? 'completed' : 'skipped',
    digest: pushed.digest,
    bytes: pushed.bytes,
    message: pushed.status === 'pushed' ? 'catalog rebuilt' : 'destination is up to date',
  };
}
