import type { ImageRecord, RunRecord } from './model.js';
import { cancelledMessage } from './cancellation.js';
import { closeOpenImages, type RunStore } from './store.js';

/**
 * A run whose images are not written yet (the API stores only the run and its request; Plan
 * writes them): its images as pending records from the request. Undefined once they are written
 * — addImages writes the last one last — and for runs without a stored request (image sets, and
 * runs whose images were written when they started).
 */
export async function unwrittenImages(
  store: Pick<RunStore, 'getRunRequest' | 'getImage'>,
  run: RunRecord,
): Promise<ImageRecord[] | undefined> {
  if (run.options.imageSet !== undefined || run.totalImages === 0) return undefined;
  if ((await store.getImage(run.runId, run.totalImages - 1)) !== undefined) return undefined;
  const requested = await store.getRunRequest(run.runId);
  return requested?.map((pair, index): ImageRecord => ({ runId: run.runId, index, ...pair, status: 'pending' }));
}

/**
 * The Plan task's first step for a run that lists its images: writes one item per image from
 * the request the API stored with the run (the API writes only the run), in parallel batches.
 * Idempotent: a Plan that is retried, or run again for a resumed run, finds the last image
 * written and leaves every image as it is — copies already made keep their status. Also run by
 * a cancel that comes first, so that the cancelled run's images are there to be closed.
 */
export async function writeRequestedImages(store: RunStore, run: RunRecord): Promise<void> {
  const images = await unwrittenImages(store, run);
  if (images === undefined) return;
  await store.addImages(run.runId, images);
  // A cancel that came while they were written (and closed what it found) leaves none pending.
  const now = await store.getRun(run.runId);
  if (now !== undefined && now.status !== 'in-progress')
    await closeOpenImages(
      store,
      run.runId,
      now.status === 'cancelled' ? cancelledMessage : 'not copied: the run ended',
    );
}
