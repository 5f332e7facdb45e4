import { applyPrune, type PrunePlan, planPrune, type PruneItemResult } from '../mirror/prune.js';
import { describeError } from '../oci/errors.js';
import { registryManifestDeleter } from '../oci/manifest-deleter.js';
import type { ImageReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import type { RunEngine } from './engine.js';
import { type Expansion, runImageSet, sourceTagLister } from './expand-run.js';
import type { ImageOutcome, RunStore } from './store.js';
import type { ImageRecord, RunRecord } from './model.js';

/**
 * A prune run's work, done by the Plan task (`"action": "prune"`, issue 9): plans the prune of
 * the run's set at its destination (`planPrune`: only repositories the set covers under the
 * prefix; only tags it no longer selects) and records one image per tag to delete. A dry run
 * (the default) records them `would-delete`; otherwise each is deleted by digest unless its tag
 * moved since the plan (skipped, reported), through the destination's deleter (ECR:
 * BatchDeleteImage). Deletes take milliseconds each, so the Map is not used: the run goes to Finish.
 * A plan that cannot be made (a listing or HEAD fails) fails the run and deletes nothing.
 */
export async function pruneRun(store: RunStore, engine: RunEngine, run: RunRecord): Promise<Expansion> {
  if (run.totalImages > 0) return { ok: true }; // a retried Plan: the images are recorded (and finished below)
  const destination = (ref: ImageReference): Repository => engine.repository({ kind: 'registry', ref }, 'destination');
  let plan: PrunePlan;
  try {
    const { set, target } = await runImageSet(store, run);
    const { updateGraphUrl } = engine;
    plan = await planPrune(set, { source: sourceTagLister(engine), destination }, target, {
      ...(updateGraphUrl ? { updateGraphUrl } : {}),
    });
  } catch (err) {
    return { ok: false, message: `prune: ${describeError(err)}` };
  }
  const records = plan.items.map((item, index): ImageRecord => ({
    runId: run.runId,
    index,
    source: item.source,
    destination: item.destination,
    digest: item.digest,
    ...(run.options.dryRun
      ? { status: 'skipped', prune: 'would-delete', message: `would delete ${item.digest}` }
      : { status: 'pending' }),
  }));
  await store.addImages(run.runId, records);
  if (run.options.dryRun) return { ok: true };
  const results = await applyPrune(plan.items, { destination, deleter: engine.deleter ?? registryManifestDeleter });
  await Promise.all(results.map((result, index) => store.finishImage(run.runId, index, pruneOutcome(result))));
  return { ok: true };
}

function pruneOutcome(result: PruneItemResult): ImageOutcome {
  if (result.status === 'deleted')
    return { status: 'completed', prune: 'deleted', message: `deleted ${result.digest}` };
  if (result.status === 'failed') return { status: 'failed', message: result.error ?? 'failed' };
  return {
    status: 'skipped',
    message: result.reason === 'tag moved' ? `tag moved to ${result.current ?? 'another digest'}: kept` : 'tag gone',
  };
}

/** A prune run's result in one line (the run's `message`), counted from its images. */
export function pruneSummary(images: readonly ImageRecord[], dryRun: boolean): string {
  const count = (prune: ImageRecord['prune']): number => images.filter((i) => i.prune === prune).length;
  if (dryRun) return `prune (dry run): ${count('would-delete')} tags would be deleted`;
  const failed = images.filter((i) => i.status === 'failed').length;
  const kept = images.filter((i) => i.status === 'skipped').length;
  return `prune: ${count('deleted')} tags deleted, ${kept} skipped (moved or gone), ${failed} failed`;
}
