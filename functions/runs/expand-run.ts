import { parseImageSet } from '../mirror/image-set/document.js';
import { expandImageSet, type ExpandTarget, type SetImage, type SetSources } from '../mirror/image-set/expand.js';
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
  };
}

/**
 * The first step of the Plan task of a run of an image set (`imageSet` or `config`): lists the
 * sources' tags, applies the set's policies and writes one image per selected reference. A
 * blocked image is recorded `skipped` (`blocked`), a second image for a destination already
 * taken fails alone. A listing that fails fails the run: a partial set is not the set. A run
 * that already has its images (a retried Plan) is left as it is.
 * WARNING: `addImages` overwrites the indexes it writes: call this only before any copy starts.
 */
export async function expandRun(store: RunStore, engine: RunEngine, run: RunRecord): Promise<Expansion> {
  if (run.options.imageSet === undefined || run.totalImages > 0) return { ok: true };
  let images: SetImage[];
  try {
    const { set, target } = await runImageSet(store, run);
    const { updateGraphUrl } = engine;
    images = await expandImageSet(set, sourceTagLister(engine), target, updateGraphUrl ? { updateGraphUrl } : {});
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

function toRecords(runId: string, images: readonly SetImage[]): ImageRecord[] {
  const taken = new Map<string, string>();
  return images.map((image, index): ImageRecord => {
    const base = { runId, index, source: image.source, destination: image.destination };
    if (image.blocked === true) return { ...base, status: 'skipped', message: 'blocked', blocked: true };
    const first = taken.get(image.destination);
    if (first !== undefined)
      return { ...base, status: 'failed', message: `${first} is mirrored to the same destination` };
    taken.set(image.destination, image.source);
    return { ...base, status: 'pending', ...(image.platforms ? { platforms: image.platforms } : {}) };
  });
}
