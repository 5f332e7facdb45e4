import { describeError } from '../oci/errors.js';
import { formatReference, type ImageReference, mirrorDestination, parseImageReference } from '../oci/reference.js';
import type { Registries } from '../oci/registries.js';
import type { CopyOptions, CopyResult, ImageCopier } from './copy-image.js';
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
    pairs.map(({ source, destination }) =>
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
              options,
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
