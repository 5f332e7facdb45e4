import { describeError } from '../oci/errors.js';
import type { Logger } from '../oci/log.js';
import { countImages, type RunRecord } from '../runs/model.js';
import type { CredentialVault, EventPublisher, WorkflowStarter } from '../runs/ports.js';
import { closeOpenImages, type RunStore } from '../runs/store.js';

/** Why a run that was in progress when `ferry serve` stopped could not be resumed. */
export const lostCredentialsMessage =
  "ferry serve restarted; the run's inline credentials were held in memory only — start the run again";

export interface RecoveredRuns {
  readonly resumed: string[];
  readonly failed: string[];
}

/**
 * Runs a previous `ferry serve` left in progress on this --data-dir (it was killed, or the
 * machine went down): their workflow died with that process. Each is resumed by a new
 * execution — interrupted images go back to pending and are copied again, which is safe because
 * copies are keyed by digest — or, when a credential it needs lived only in that process's
 * memory, failed with a message saying so. None stays in progress forever.
 */
export async function recoverRuns(deps: {
  store: RunStore;
  vault: CredentialVault;
  workflow: WorkflowStarter;
  events: EventPublisher;
  logger: Logger;
}): Promise<RecoveredRuns> {
  const found: RunRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = await deps.store.listRuns(100, nextToken);
    found.push(...page.items.filter((r) => r.status === 'in-progress'));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  const recovered: RecoveredRuns = { resumed: [], failed: [] };
  for (const run of found) {
    try {
      if (await credentialsLost(run, deps.vault)) {
        await failRun(run, deps.store, deps.events);
        recovered.failed.push(run.runId);
      } else {
        await resumeRun(run, deps.store, deps.workflow);
        recovered.resumed.push(run.runId);
      }
    } catch (err) {
      deps.logger.warn('could not recover a run left in progress', { runId: run.runId, error: describeError(err) });
    }
  }
  if (found.length > 0) deps.logger.info('runs left in progress by an earlier ferry serve', { ...recovered });
  return recovered;
}

/** Whether a credential of the run no longer resolves (inline ones were in the old process's memory). */
async function credentialsLost(run: RunRecord, vault: CredentialVault): Promise<boolean> {
  const refs = [run.options.destination.credentials, ...Object.values(run.options.sourceCredentials)];
  const lost = await Promise.all(
    refs.map((ref) =>
      ref === undefined
        ? false
        : vault.resolve(ref).then(
            () => false,
            () => true,
          ),
    ),
  );
  return lost.includes(true);
}

/** The run ends as the workflow's Finish would have ended it: final images, final status, the event. */
async function failRun(run: RunRecord, store: RunStore, events: EventPublisher): Promise<void> {
  const counts = countImages(await closeOpenImages(store, run.runId, `not copied: ${lostCredentialsMessage}`));
  await store.finishRun(run.runId, { status: 'failed', message: lostCredentialsMessage, ...counts });
  await events.runFinished({
    runId: run.runId,
    status: 'failed',
    totalImages: run.totalImages,
    imagesFailed: counts.imagesFailed,
    bytesCopied: counts.bytesCopied,
    ...(run.options.schedule ? { schedule: run.options.schedule } : {}),
  });
}

async function resumeRun(run: RunRecord, store: RunStore, workflow: WorkflowStarter): Promise<void> {
  const interrupted = (await store.listImages(run.runId)).filter((i) => i.status === 'in-progress');
  await Promise.all(interrupted.map((i) => store.reopenImage(run.runId, i.index)));
  await store.setExecution(run.runId, await workflow.start(run.runId));
}
