import { describeError } from '../oci/errors.js';
import { formatReference, type ImageReference, mirrorDestination, parseImageReference } from '../oci/reference.js';
import type { Registries } from '../oci/registries.js';
import type { Platform } from '../oci/manifest.js';
import type { CopyOptions, CopyPlan, CopyResult, ImageCopier } from './copy-image.js';
import { OrderedMountLedger } from './copy-plan.js';
import { Limiter } from './limiter.js';

export interface MirrorOptions extends CopyOptions {
  /** Images copied at once. */
  readonly concurrency?: number;
  /** Stop starting new images after the first failure. */
  readonly failFast?: boolean;
}

export interface FailedResult {
  readonly source: string;
  readonly destination: string;
  readonly status: 'failed';
  readonly error: string;
}

export type MirrorResult = CopyResult | FailedResult;

export interface MirrorPair {
  readonly source: ImageReference;
  readonly destination: ImageReference;
  /** This image's platforms (an image set's per-repository `platforms`), instead of the options'. */
  readonly platforms?: readonly Platform[];
}

/** Expands image references into (source, destination) pairs under `target` (`registry[/prefix]`). */
export function mirrorPairs(images: readonly string[], target: string): MirrorPair[] {
  return images.map((image) => {
    const source = parseImageReference(image);
    return { source, destination: mirrorDestination(source, target) };
  });
}

/**
 * Mirrors many images in one process through one copier, so blobs shared between images move
 * once. Results arrive per image through `onResult` and are returned in input order.
 */
export async function mirrorImages(
  pairs: readonly MirrorPair[],
  registries: Registries,
  copier: ImageCopier,
  options: MirrorOptions = {},
  onResult: (result: MirrorResult) => void = () => {},
): Promise<MirrorResult[]> {
  const limiter = new Limiter(options.concurrency ?? 4);
  let failed = false;
  return Promise.all(
    pairs.map(({ source, destination, platforms }) =>
      limiter.run(async (): Promise<MirrorResult> => {
        let result: MirrorResult;
        if (failed && options.failFast) {
          result = {
            source: formatReference(source),
            destination: formatReference(destination),
            status: 'failed',
            error: 'not started: an earlier image failed (--fail-fast)',
          };
        } else {
          try {
            result = await copier.copy(
              registries.image({ kind: 'registry', ref: source }, 'source'),
              registries.image({ kind: 'registry', ref: destination }, 'destination'),
              platforms === undefined ? options : { ...options, platforms },
            );
          } catch (err) {
            failed = true;
            result = {
              source: formatReference(source),
              destination: formatReference(destination),
              status: 'failed',
              error: describeError(err),
            };
          }
        }
        onResult(result);
        return result;
      }),
    ),
  );
}

/** One image's dry-run outcome: its plan, or why planning failed. */
export type PlanResult =
  | { readonly source: string; readonly destination: string; readonly status: 'planned'; readonly plan: CopyPlan }
  | FailedResult;

/**
 * Plans many images (`ImageCopier.plan`: reads only), as `mirrorImages` would copy them: same
 * concurrency and fail-fast. The plans share one mount ledger settled in input order, so a blob
 * that several images need counts as streamed by the first and mounted by the others when they
 * go to other repositories of the same registry — what one copying process does, the same count
 * every run. Results arrive through `onResult` as they finish and are returned in input order.
 */
export async function planImages(
  pairs: readonly MirrorPair[],
  registries: Registries,
  copier: ImageCopier,
  options: MirrorOptions = {},
  onResult: (result: PlanResult) => void = () => {},
): Promise<PlanResult[]> {
  const limiter = new Limiter(options.concurrency ?? 4);
  const ledger = new OrderedMountLedger(pairs.length);
  let failed = false;
  return Promise.all(
    pairs.map(({ source, destination, platforms }, index) =>
      limiter.run(async (): Promise<PlanResult> => {
        const names = { source: formatReference(source), destination: formatReference(destination) };
        let result: PlanResult;
        try {
          if (failed && options.failFast) {
            result = { ...names, status: 'failed', error: 'not started: an earlier image failed (--fail-fast)' };
          } else {
            const plan = await copier.plan(
              registries.image({ kind: 'registry', ref: source }, 'source'),
              registries.image({ kind: 'registry', ref: destination }, 'destination'),
              { ...options, ...(platforms === undefined ? {} : { platforms }), mounts: ledger.view(index) },
            );
            result = { ...names, status: 'planned', plan };
          }
        } catch (err) {
          failed = true;
          result = { ...names, status: 'failed', error: describeError(err) };
        } finally {
          ledger.done(index);
        }
        onResult(result);
        return result;
      }),
    ),
  );
}
