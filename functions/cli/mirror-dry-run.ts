import { formatBytes } from '../mirror/format.js';
import { type MirrorOptions, type MirrorPair, type PlanResult, planImages } from '../mirror/mirror.js';
import { planItemFromCopyPlan } from '../mirror/workspace/plan.js';
import { describePullCosts } from './pull-costs.js';
import type { Runtime } from './runtime.js';

/**
 * `ferry mirror IMAGE… --dry-run`: plans every image (reads only), one line per image (one JSON
 * object per line with `--json`), then on stderr the totals and what the run will cost against
 * each upstream's pull budget. Returns the exit code: 1 when any plan failed.
 */
export async function dryRunMirror(
  pairs: readonly MirrorPair[],
  runtime: Runtime,
  options: MirrorOptions,
  json: boolean,
): Promise<number> {
  const plans = await planImages(pairs, runtime.registries, runtime.copier, options, (r) =>
    process.stdout.write(`${json ? JSON.stringify(r) : describePlan(r)}\n`),
  );
  const planned = plans.flatMap((p) => (p.status === 'planned' ? [planItemFromCopyPlan(p, p.plan)] : []));
  const failed = plans.length - planned.length;
  const copy = planned.filter((p) => p.action === 'copy');
  const bytes = copy.reduce((sum, p) => sum + (p.bytes ?? 0), 0);
  process.stderr.write(
    `dry run: ${plans.length} images: ${copy.length} to copy (${formatBytes(bytes)}), ${planned.length - copy.length} up to date, ${failed} failed\n`,
  );
  for (const line of await describePullCosts(planned, runtime.pulls)) process.stderr.write(`dry run: ${line}\n`);
  return failed > 0 ? 1 : 0;
}

/** One planned image as a line: what a copy would do with it. */
export function describePlan(result: PlanResult): string {
  if (result.status === 'failed') return `failed   ${result.source} → ${result.destination}: ${result.error}`;
  const { plan } = result;
  if (plan.status !== 'would-copy') return `current  ${result.source} → ${result.destination} ${plan.digest}`;
  const { mountable } = plan.missing;
  return `copy     ${result.source} → ${result.destination} ${plan.digest} (${plan.missing.blobs - mountable.blobs} to copy, ${mountable.blobs} to mount, ${plan.present} present; ${formatBytes(plan.missing.bytes - mountable.bytes)})`;
}
