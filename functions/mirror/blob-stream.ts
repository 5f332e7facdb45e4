import { Readable } from 'node:stream';
import { DigestMismatchError } from '../oci/errors.js';
import { verifyDigest } from '../oci/digest.js';
import type { Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import type { Clock, RetryBudgets, RetryPolicy } from '../oci/retry.js';
import { TransferDecisions } from './blob-decisions.js';
import type { BlobProgress } from './blob-outcome.js';
import { type MinimumRate, RateFloor } from './rate-floor.js';
import { readResumable } from './resumable-read.js';

/** What streaming a blob needs besides the two sides. */
export interface StreamContext {
  /** Transfers per blob in all (the first and each restart or resume). */
  readonly policy: RetryPolicy;
  readonly budgets: RetryBudgets;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly progress: BlobProgress;
  readonly minRate: MinimumRate;
}

/** The host whose retry budget a repository's failures spend. */
export function hostOf(repository: Repository): string {
  return repository.registry ?? repository.display;
}

/** The decisions on one blob's transfer, each side's failures paid from its host's budget. */
export function transferDecisions(
  source: Repository,
  destination: Repository,
  descriptor: Descriptor,
  context: StreamContext,
): TransferDecisions {
  const hosts = { source: hostOf(source), destination: hostOf(destination) };
  return new TransferDecisions(descriptor, hosts, context.policy, context.budgets, context.logger);
}

/**
 * Streams one blob source → destination through the digest verifier: one upload, fed by a read
 * that resumes or rereads (see {@link readResumable}); an upload that fails, a digest mismatch or
 * a source below the rate floor restarts with a new upload. Every failure is decided once by one
 * {@link TransferDecisions}, so the transfers of a blob are bounded by `policy.attempts`.
 */
export async function streamBlob(
  source: Repository,
  destination: Repository,
  descriptor: Descriptor,
  session: string | undefined,
  context: StreamContext,
  signal?: AbortSignal,
): Promise<void> {
  const { progress } = context;
  const decisions = transferDecisions(source, destination, descriptor, context);
  progress.onStart?.(descriptor, destination.display);
  let done = false;
  try {
    for (let upload = 0; ; upload++) {
      const floor = new RateFloor(context.minRate, source, destination, descriptor, context.clock);
      try {
        const chunks = readResumable(source, descriptor, {
          floor,
          decisions,
          clock: context.clock,
          signal,
          onBytes: (n) => progress.onBytes?.(descriptor, n),
        });
        const body = Readable.from(verifyDigest(chunks, descriptor.digest, descriptor.size), {
          objectMode: false,
          highWaterMark: 1 << 20,
        });
        await destination.writeBlob(descriptor, body, upload === 0 ? session : undefined);
        done = true;
        return;
      } catch (err) {
        // The source's fault (the bytes, the rate) or the upload's: that side's budget pays. A read
        // that gave up was decided on already (see TransferDecisions), so it is not charged twice.
        const side = err instanceof DigestMismatchError || floor.failure ? 'source' : 'destination';
        const { delayMs } = decisions.decide(err, side, 0, 'failed', signal);
        await context.clock.sleep(delayMs, signal);
      } finally {
        // Also when the body was not read to its end (the upload failed first).
        floor.stop();
      }
    }
  } finally {
    progress.onEnd?.(descriptor, done ? { kind: 'copied', bytes: descriptor.size } : undefined);
  }
}
