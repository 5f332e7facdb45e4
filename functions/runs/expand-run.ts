import { parseImageSet } from '../mirror/image-set/document.js';
import {
  type ExpandTarget,
  expandImageSetContent,
  type SetImage,
  type SetSources,
} from '../mirror/image-set/expand.js';
import type { ChartArtifact } from '../mirror/helm/expand-helm.js';
import type { CatalogArtifact } from '../mirror/operators/expand-operators.js';
import { digestOf } from '../oci/digest.js';
import { describeError } from '../oci/errors.js';
import { type RunEngine, runImage } from './engine.js';
import type { ImageRecord, RunRecord } from './model.js';
import { maxRunImages } from './run-request.js';
import type { RunStore } from './store.js';

/** What expanding a run's set decided: go on (the run's images are written), or why the run fails. */
export type Expansion = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** The set's document, parsed again (it was checked when the run started), and where it is mirrored. */
export async function runImageSet(
  store: Pick<RunStore, 'getRunDocument'>,
  run: RunRecord,
): Promise<{ set: ReturnType<typeof parseImageSet>['set']; target: ExpandTarget }> {
  const document = await store.getRunDocument(run.runId);
  if (document === undefined) throw new Error(`run ${run.runId} has no image-set document`);
  const { registry, prefix } = run.options.destination;
  return { set: parseImageSet(document).set, target: { registry, ...(prefix ? { prefix } : {}) } };
}

/** Tags of a source repository (all pages), source repositories and the update graph, through the run's engine (its source credentials). */
export function sourceTagLister(engine: RunEngine): SetSources {
  return {
    listTags: (ref) => runImage(engine, ref, 'source').repository.listTags(),
    repository: (ref) => runImage(engine, ref, 'source').repository,
    ...(engine.getJson ? { getJson: engine.getJson } : {}),
    ...(engine.getBytes ? { getBytes: engine.getBytes } : {}),
  };
}

/** One item of a run's set: an image to copy, or a generated artifact with its inputs (ImageRecord.artifact). */
type SetItem = SetImage & { readonly artifact?: ImageRecord['artifact'] };

/**
 * The first step of the Plan task of a run of an image set (`imageSet` or `config`): lists the
 * sources' tags, applies the set's policies and writes one image per selected reference, then
 * one item per chart (copied by the Map like an image) and per rebuilt catalog (pushed by Finish,
 * after every image it names). A
 * blocked image is recorded `skipped` (`blocked`), a second image for a destination already
 * taken fails alone. A listing that fails fails the run: a partial set is not the set. A run
 * that already has its images (a retried Plan) is left as it is.
 * WARNING: `addImages` overwrites the indexes it writes: call this only before any copy starts.
 */
export async function expandRun(store: RunStore, engine: RunEngine, run: RunRecord): Promise<Expansion> {
  if (run.options.imageSet === undefined || run.totalImages > 0) return { ok: true };
  let images: SetItem[];
  try {
    const { set, target } = await runImageSet(store, run);
    const { updateGraphUrl } = engine;
    let charts: ChartArtifact[] = [];
    const expanded = await expandImageSetContent(set, sourceTagLister(engine), target, {
      ...(updateGraphUrl ? { updateGraphUrl } : {}),
      onHelm: (helm) => (charts = helm.charts),
    });
    images = [...expanded.images, ...charts.map(chartItem), ...expanded.artifacts.map(catalogItem)];
  } catch (err) {
    return { ok: false, message: `image set: ${describeError(err)}` };
  }
  if (images.length > maxRunImages)
    return {
      ok: false,
      message: `image set: selects ${images.length} images; a run holds at most ${maxRunImages} (split the set)`,
    };
  // A Plan that died while writing left some images: the ones this expansion has no index for are not copied.
  const earlier = await store.listImages(run.runId);
  for (const stale of earlier.filter((i) => i.index >= images.length))
    await store.finishImage(run.runId, stale.index, {
      status: 'skipped',
      message: 'not selected when the set was expanded again',
    });
  await store.addImages(run.runId, toRecords(run.runId, images));
  return { ok: true };
}

/** A chart as an item: pushed from its `.tgz` URL, whose bytes must still hash as they did here. */
function chartItem(chart: ChartArtifact): SetItem {
  // API documents have no local charts (refused when the set is parsed): every chart has a URL.
  if (chart.source.kind !== 'repository') throw new Error(`chart ${chart.name}: not from a repository`);
  const { url } = chart.source;
  const artifact = {
    kind: 'chart' as const,
    url,
    sha256: digestOf(chart.bytes),
    name: chart.name,
    version: chart.version,
  };
  return { source: url, destination: chart.destination, byDigest: false, artifact };
}

/** A rebuilt catalog as an item: `mirror.operators[i]` (in document order, one artifact each) read at its digest. */
function catalogItem(catalog: CatalogArtifact, operator: number): SetItem {
  const artifact = { kind: 'catalog' as const, operator, sourceDigest: catalog.sourceDigest };
  return { source: catalog.sourceDigest, destination: catalog.destination, byDigest: false, artifact };
}

function toRecords(runId: string, images: readonly SetItem[]): ImageRecord[] {
  const taken = new Map<string, string>();
  return images.map((image, index): ImageRecord => {
    const base = {
      runId,
      index,
      source: image.source,
      destination: image.destination,
      ...(image.artifact === undefined ? {} : { artifact: image.artifact }),
    };
    if (image.blocked === true) return { ...base, status: 'skipped', message: 'blocked', blocked: true };
    const first = taken.get(image.destination);
    if (first !== undefined)
      return { ...base, status: 'failed', message: `${first} is mirrored to the same destination` };
    taken.set(image.destination, image.source);
    return {
      ...base,
      status: 'pending',
      ...(image.platforms ? { platforms: image.platforms } : {}),
      ...(image.release === true ? { release: true } : {}),
    };
  });
}
