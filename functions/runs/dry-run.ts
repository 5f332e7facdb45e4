import { parsePlatform } from '../oci/manifest.js';
import type { RepositoryRef } from '../oci/repository.js';
import { formatBytes } from '../mirror/format.js';
import { describeBudget, sourceRegistry } from '../mirror/pull-budget.js';
import type { RunEngine } from './engine.js';
import type { DryRunResult, ImageRecord, RunRecord } from './model.js';
import type { ImageOutcome } from './store.js';

/**
 * A dry run's image: what copying it would do, found by reading only. Recorded as `skipped`
 * with `bytes` = what a copy would move, the finding as data (`dryRun`) and a line of prose for
 * people; the run's summary is built from the data, never from the prose.
 */
export async function assessImage(
  run: RunRecord,
  image: Pick<ImageRecord, 'platforms'>,
  engine: RunEngine,
  from: RepositoryRef,
  to: RepositoryRef,
): Promise<ImageOutcome> {
  const found = await engine.copier.plan(from, to, {
    platforms: (image.platforms ?? run.options.platforms).map(parsePlatform),
    keepExistingTags: !run.options.override,
  });
  const registry = from.repository.registry;
  const budget = registry === undefined ? undefined : await engine.pullBudget?.(registry);
  const message =
    found.status === 'up-to-date'
      ? 'dry run: destination is up to date'
      : found.status === 'tag-kept'
        ? `dry run: ${found.note ?? 'destination tag kept'}`
        : `dry run: would copy ${found.missing.blobs} blobs (${formatBytes(found.missing.bytes)}), ${found.present} already there; ${found.manifestGets} manifest GETs from the source`;
  return {
    status: 'skipped',
    digest: found.digest,
    bytes: found.missing.bytes,
    message,
    dryRun: {
      action: found.status === 'would-copy' ? 'copy' : 'skip',
      blobs: found.missing.blobs,
      bytes: found.missing.bytes,
      // What the plan JSON shows (run-outputs.ts reads them back as planItemFromCopyPlan maps a CopyPlan).
      mount: found.missing.mountable.blobs,
      mountBytes: found.missing.mountable.bytes,
      present: found.present,
      manifestGets: found.manifestGets,
      ...(budget
        ? { pullBudget: { remaining: budget.remaining, limit: budget.limit, windowMs: budget.windowMs } }
        : {}),
    },
  };
}

/**
 * A dry run's result in one line: how many images would copy, and the bytes (per image: a blob
 * shared by images counts in each).
 */
export function dryRunSummary(images: readonly ImageRecord[]): string {
  const wouldCopy = images.filter((i) => i.dryRun?.action === 'copy');
  const bytes = wouldCopy.reduce((n, i) => n + (i.dryRun?.bytes ?? 0), 0);
  const failed = images.filter((i) => i.status === 'failed').length;
  return `dry run: ${wouldCopy.length} of ${images.length} images would copy, ${formatBytes(bytes)} at most${failed > 0 ? `; ${failed} failed` : ''}${pullCosts(wouldCopy)}`;
}

/**
 * `; docker.io: 42 manifest GETs, budget 76 left of 100 per 6h` for each upstream that reported a
 * pull budget to the assessments (the lowest count any of them saw: they ran in turn or at once);
 * an upstream that sends no limit has no budget to spend and adds nothing.
 */
function pullCosts(wouldCopy: readonly ImageRecord[]): string {
  const upstreams = new Map<string, { gets: number; budget?: NonNullable<DryRunResult['pullBudget']> }>();
  for (const image of wouldCopy) {
    const registry = sourceRegistry(image.source);
    if (registry === undefined) continue;
    const entry = upstreams.get(registry) ?? { gets: 0 };
    const seen = image.dryRun?.pullBudget;
    const budget = !seen || (entry.budget && entry.budget.remaining <= seen.remaining) ? entry.budget : seen;
    upstreams.set(registry, { gets: entry.gets + (image.dryRun?.manifestGets ?? 0), ...(budget ? { budget } : {}) });
  }
  return [...upstreams]
    .filter(([, u]) => u.budget !== undefined)
    .map(([registry, u]) => `; ${registry}: ${u.gets} manifest GETs, ${describeBudget(u.budget)}`)
    .join('');
}
