import { describeError } from '../oci/errors.js';
import type { Logger } from '../oci/log.js';
import { cancelledMessage } from './cancellation.js';
import { pushCatalogItems } from './catalog-items.js';
import { dryRunSummary } from './dry-run.js';
import { countImages, finalStatus, type RunRecord, type RunStatus } from './model.js';
import { pruneSummary } from './prune-run.js';
import { closeOpenImages, type RunStore } from './store.js';
import type { RunTaskDeps } from './task-deps.js';
import { failureMessage, type TaskFailure } from './task-failure.js';

/**
 * Ends a run: its rebuilt catalogs are pushed (see pushCatalogItems), images the workflow never
 * reached are closed with the reason, the final status and counts are written, the run's own
 * secrets are released and `Ferry Run Finished` is published.
 * `missing`: the run does not exist (expired).
 */
export async function finishRun(
  deps: Pick<RunTaskDeps, 'store' | 'events' | 'vault' | 'engines'>,
  logger: Logger,
  runId: string,
): Promise<{ status: RunStatus | 'missing' }> {
  const { store } = deps;
  const run = await store.getRun(runId);
  if (!run) return { status: 'missing' };
  // Rebuilt catalogs (mirror.operators) go last: after every image they name, before the counts.
  await pushCatalogItems(deps, logger, run);
  // The workflow stopped early (failFast, cancel): say why the rest were not copied. Copies
  // still under way (failFast ends the Map while they run) finish and record themselves.
  const message =
    run.status === 'cancelled'
      ? cancelledMessage
      : run.options.failFast
        ? 'not copied: the run stopped at the first failure (failFast)'
        : 'not copied: the workflow ended before this image ran';
  const images = await closeOpenImages(store, runId, message, { statuses: ['pending'] });
  const counts = countImages(images);
  // A cancelled run keeps its status; finishRun then only records the final counts.
  const summary =
    run.options.action === 'prune'
      ? pruneSummary(images, run.options.dryRun)
      : run.options.dryRun
        ? dryRunSummary(images)
        : undefined;
  await store.finishRun(runId, {
    status: finalStatus(images),
    ...counts,
    ...(summary === undefined ? {} : { message: summary }),
  });
  const ended = (await store.getRun(runId)) ?? run;
  await releaseCredentials(deps, logger, runId);
  await deps.events.runFinished(finishedEvent(run, ended.status, counts));
  return { status: ended.status };
}

/**
 * An image the workflow gave up on: failed with a message saying why, which names the invocations
 * the image took (see failureMessage); a plain `reason` is a typed error's message after its
 * retries. A failFast run stops with it.
 */
export async function recordImageFailure(
  store: RunStore,
  runId: string,
  index: number,
  failure: TaskFailure | string,
): Promise<void> {
  const message =
    typeof failure === 'string'
      ? `${failure} (gave up after retries)`
      : failureMessage(failure, (await store.getImage(runId, index))?.invocations ?? 0);
  await store.finishImage(runId, index, { status: 'failed', message });
  const run = await store.getRun(runId);
  if (run) await stopIfFailFast(store, run);
}

/**
 * Finish failed, its retries spent (the workflow's FinishFailed step): the run is finalised all
 * the same, so that it never stays in progress — which would also keep its schedule's lock, taken
 * over only from a run that ended. Only what cannot fail for Finish's reason: images never reached
 * are closed, the run is marked failed with a message naming `cause`, its secrets released and
 * `Ferry Run Finished` published. No catalog is pushed. Closing, releasing and publishing are each
 * best effort (the run's own counters stand in for a recount); marking the run failed is not.
 */
export async function finishFailedRun(
  deps: Pick<RunTaskDeps, 'store' | 'events' | 'vault'>,
  logger: Logger,
  runId: string,
  cause: string,
): Promise<{ status: RunStatus | 'missing' }> {
  const { store } = deps;
  const run = await store.getRun(runId);
  if (!run) return { status: 'missing' };
  const message = `the run could not finish: ${cause}`;
  let counts = { imagesProcessed: run.imagesProcessed, imagesFailed: run.imagesFailed, bytesCopied: run.bytesCopied };
  try {
    counts = countImages(await closeOpenImages(store, runId, `not copied: ${message}`, { statuses: ['pending'] }));
  } catch (err) {
    logger.warn('open images not closed after Finish failed', { runId, error: describeError(err) });
  }
  await store.finishRun(runId, { status: 'failed', message, ...counts });
  const ended = (await store.getRun(runId)) ?? run;
  await releaseCredentials(deps, logger, runId);
  try {
    await deps.events.runFinished(finishedEvent(run, ended.status, counts));
  } catch (err) {
    logger.warn('Ferry Run Finished not published after Finish failed', { runId, error: describeError(err) });
  }
  return { status: ended.status };
}

/** failFast: the first failure ends the run at once, so no further image starts (startImage checks the run). */
export async function stopIfFailFast(store: RunStore, run: RunRecord): Promise<void> {
  if (!run.options.failFast) return;
  await store.finishRun(run.runId, {
    status: 'failed',
    message: 'stopped at the first failure (failFast)',
    ...countImages(await store.listImages(run.runId)),
  });
}

/** The run's own secrets go when it ends; a failure here leaves them to the sweep, it does not fail the run. */
async function releaseCredentials(deps: Pick<RunTaskDeps, 'vault'>, logger: Logger, runId: string): Promise<void> {
  try {
    await deps.vault?.release(runId);
  } catch (err) {
    logger.warn('run secrets not deleted (the sweep will)', { runId, error: describeError(err) });
  }
}

/** The detail of `Ferry Run Finished` for a run that ended with `status` and these counts. */
function finishedEvent(
  run: RunRecord,
  status: RunStatus,
  counts: { imagesFailed: number; bytesCopied: number },
): Parameters<RunTaskDeps['events']['runFinished']>[0] {
  return {
    runId: run.runId,
    status,
    totalImages: run.totalImages,
    imagesFailed: counts.imagesFailed,
    bytesCopied: counts.bytesCopied,
    ...(run.options.schedule ? { schedule: run.options.schedule } : {}),
  };
}
