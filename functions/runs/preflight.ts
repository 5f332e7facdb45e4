import { AuthenticationError, describeError, FerryError } from '../oci/errors.js';
import type { Logger } from '../oci/log.js';
import { parseImageReference } from '../oci/reference.js';
import { Limiter } from '../mirror/limiter.js';
import { type RunEngine, runImage } from './engine.js';
import { countImages, type ImageRecord, type RunRecord } from './model.js';
import { expandRun } from './expand-run.js';
import { pruneRun } from './prune-run.js';
import { writeRequestedImages } from './plan-images.js';
import { closeOpenImages, type ImageOutcome, type RunStore } from './store.js';
import type { RunTaskDeps } from './task-deps.js';

/** What preflight decided: whether to copy, and which images (the ones still pending after it). */
export interface Preflight {
  readonly proceed: boolean;
  readonly indexes: readonly number[];
  readonly failFast: boolean;
}

const stop: Preflight = { proceed: false, indexes: [], failFast: false };

/**
 * Checks a run before any copy: the destination's credentials (one upload opened and cancelled,
 * or a read for a dry run), then every source, resolving tags to digests and recording them on
 * the images. A missing or unreadable source fails its image alone; a destination or a source
 * registry that refuses the credentials, or cannot be reached, fails the whole run.
 */
export async function preflightRun(
  deps: Pick<RunTaskDeps, 'store' | 'engines'>,
  logger: Logger,
  runId: string,
): Promise<Preflight> {
  const { store } = deps;
  const run = await store.getRun(runId);
  if (!run || run.status !== 'in-progress') return stop;
  const engine = deps.engines.forRun(run);
  if (run.options.imageSet !== undefined) {
    // A set's images are known once its sources' tags are listed; a prune run is done here.
    const prune = run.options.action === 'prune';
    const expanded = prune ? await pruneRun(store, engine, run) : await expandRun(store, engine, run);
    if (!expanded.ok) {
      await failRun(store, logger, run, await store.listImages(runId), expanded.message);
      return stop;
    }
    if (prune) return stop;
  } else await writeRequestedImages(store, run);
  const images = await store.listImages(runId);

  const refusedDestination = await checkDestination(run, engine, images[0]);
  if (refusedDestination !== undefined) {
    await failRun(store, logger, run, images, refusedDestination);
    return stop;
  }

  const limiter = new Limiter(16);
  const finished = new Set<number>();
  const finish = async (index: number, outcome: ImageOutcome): Promise<void> => {
    finished.add(index);
    await store.finishImage(runId, index, outcome);
  };
  let refused: string | undefined;
  await Promise.all(
    images
      // A chart's source is a URL, a catalog's was read by digest when the set was expanded: no HEAD.
      .filter((i) => i.status === 'pending' && i.artifact === undefined)
      .map((image) =>
        limiter.run(async () => {
          if (refused !== undefined) return;
          const ref = parseImageReference(image.source);
          try {
            const { repository, reference } = runImage(engine, ref, 'source');
            const head = await repository.headManifest(reference);
            if (!head)
              return await finish(image.index, { status: 'failed', message: `source ${image.source} not found` });
            await store.annotateImage(runId, image.index, { digest: head.digest });
          } catch (err) {
            // An image that is missing or unreadable fails alone; a registry that refuses or cannot be reached fails the run.
            if (err instanceof FerryError && !err.retryable && !(err instanceof AuthenticationError))
              await finish(image.index, { status: 'failed', message: describeError(err) });
            else refused ??= `source ${ref.registry}: ${describeError(err)}`;
          }
        }),
      ),
  );
  if (refused !== undefined) {
    await failRun(store, logger, run, images, refused);
    return stop;
  }
  // Rebuilt catalogs are not the Map's: Finish pushes them once every image they name is mirrored.
  const open = images
    .filter((i) => i.status === 'pending' && !finished.has(i.index) && i.artifact?.kind !== 'catalog')
    .map((i) => i.index);
  return { proceed: open.length > 0, indexes: open, failFast: run.options.failFast };
}

/** Proves the destination credentials on the first image's repository; returns why it refused, if it did. */
async function checkDestination(
  run: RunRecord,
  engine: RunEngine,
  first: ImageRecord | undefined,
): Promise<string | undefined> {
  if (!first) return undefined;
  const ref = parseImageReference(first.destination);
  try {
    const { repository: destination, reference } = runImage(engine, ref, 'destination');
    if (run.options.dryRun) {
      // A dry run writes nothing, not even a repository or an upload session: reading proves the credentials.
      await destination.headManifest(reference);
    } else {
      await engine.copier.prepare(destination);
      await destination.checkWriteAccess();
    }
    return undefined;
  } catch (err) {
    return `destination ${ref.registry}/${ref.repository}: ${describeError(err)}`;
  }
}

async function failRun(
  store: RunStore,
  logger: Logger,
  run: RunRecord,
  images: readonly ImageRecord[],
  message: string,
): Promise<void> {
  logger.warn('preflight failed', { runId: run.runId, message });
  const closed = await closeOpenImages(store, run.runId, `not copied: ${message}`, { images });
  await store.finishRun(run.runId, { status: 'failed', message, ...countImages(closed) });
}
