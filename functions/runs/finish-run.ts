import { describeError } from '../oci/errors.js';
import type { Logger } from '../oci/log.js';
import { cancelledMessage } from './cancellation.js';
import { pushCatalogItems } from './catalog-items.js';
import { dryRunSummary } from './dry-run.js';
import { countImages, finalStatus, type RunRecord, type RunStatus } from './model.js';
import { pruneSummary } from './prune-run.js';
import { closeOpenImages, type RunStore } from './store.js';
import type { RunTaskDeps } from './task-deps.js';

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
  await deps.events.runFinished({
    runId,
    status: ended.status,
    totalImages: run.totalImages,
    imagesFailed: counts.imagesFailed,
    bytesCopied: counts.bytesCopied,
    ...(run.options.schedule ? { schedule: run.options.schedule } : {}),
  });
  return { status: ended.status };
}

/**
 * An image the workflow gave up on (its retries spent): failed with `reason`; a failFast run
 * stops with it.
 */
export async function recordImageFailure(store: RunStore, runId: string, index: number, reason: string): Promise<void> {
  await store.finishImage(runId, index, { status: 'failed', message: `${reason} (gave up after retries)` });
  const run = await store.getRun(runId);
  if (run) await stopIfFailFast(store, run);
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
