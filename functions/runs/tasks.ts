import { z } from 'zod';
import { AuthenticationError, describeError, FerryError } from '../oci/errors.js';
import { silentLogger, type Logger } from '../oci/log.js';
import { parsePlatform } from '../oci/manifest.js';
import { parseImageReference } from '../oci/reference.js';
import type { RepositoryRef } from '../oci/repository.js';
import { isTransientNetworkError } from '../oci/retry.js';
import { formatBytes } from '../mirror/format.js';
import { Limiter } from '../mirror/limiter.js';
import { type CancelWatch, watchCancel, withCheckpoints } from './cancel-watch.js';
import { cancelledMessage, type RunCancellations } from './cancellation.js';
import { type RunEngine, type RunEngines, runImage } from './engine.js';
import { countImages, finalStatus, type ImageRecord, type RunRecord } from './model.js';
import type { CredentialVault, EventPublisher } from './ports.js';
import { closeOpenImages, type ImageOutcome, type RunStore } from './store.js';

/** Runs with more images than this use the Distributed Map. */
export const distributedThreshold = 200;

export const planInput = z.object({ runId: z.string() });
export const imageInput = z.object({ runId: z.string(), index: z.number().int().nonnegative() });
export const failureInput = imageInput.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/** Source repository and reference, destination repository and reference: what `copy` and `plan` take first. */
type ImagePair = readonly [source: RepositoryRef, destination: RepositoryRef];

export interface PlanOutput {
  runId: string;
  proceed: boolean;
  indexes: number[];
  failFast: boolean;
  distributed: boolean;
}

export interface WorkflowTaskDeps {
  readonly store: RunStore;
  readonly engines: RunEngines;
  readonly events: EventPublisher;
  readonly logger?: Logger;
  /** Where the run's inline credentials live: Finish releases (deletes) them. */
  readonly vault?: CredentialVault;
  /** Cancel signals of this process (`ferry serve`): a cancel reaches the copies at once. */
  readonly cancellations?: RunCancellations;
  /** How often a copy asks the run store whether its run was cancelled (default 5 s). */
  readonly cancelPollMs?: number;
}

/**
 * The Step Functions tasks of a run: Plan (resolve and preflight), CopyImage (one image),
 * RecordFailure (after retries), Finish (final status, event). Retryable errors are thrown for
 * the state machine's Retry; everything else is recorded on the image and returned as a value.
 */
export class WorkflowTasks {
  readonly #deps: WorkflowTaskDeps;
  readonly #logger: Logger;

  constructor(deps: WorkflowTaskDeps) {
    this.#deps = deps;
    this.#logger = deps.logger ?? silentLogger;
  }

  async plan(input: unknown): Promise<PlanOutput> {
    const { runId } = planInput.parse(input);
    const run = await this.#deps.store.getRun(runId);
    const stop = { runId, proceed: false, indexes: [], failFast: false, distributed: false };
    if (!run || run.status !== 'in-progress') return stop;
    const images = await this.#deps.store.listImages(runId);
    const engine = this.#deps.engines.forRun(run);

    // Preflight the destination first: one upload opened and cancelled proves the credentials.
    const first = images[0];
    if (first) {
      const ref = parseImageReference(first.destination);
      try {
        const { repository: destination, reference } = runImage(engine, ref, 'destination');
        if (run.options.dryRun) {
          // A dry run writes nothing, not even a repository or an upload session: reading proves the credentials.
          await destination.headManifest(reference);
        } else {
          await engine.copier.prepare(destination);
          await destination.checkWriteAccess();
        }
      } catch (err) {
        await this.#failRun(run, images, `destination ${ref.registry}/${ref.repository}: ${describeError(err)}`);
        return stop;
      }
    }

    // Resolve every source (tags to digests); a registry that refuses credentials fails the run.
    const limiter = new Limiter(16);
    const finished = new Set<number>();
    const finish = async (index: number, outcome: ImageOutcome): Promise<void> => {
      finished.add(index);
      await this.#deps.store.finishImage(runId, index, outcome);
    };
    let refused: string | undefined;
    await Promise.all(
      images
        .filter((i) => i.status === 'pending')
        .map((image) =>
          limiter.run(async () => {
            if (refused !== undefined) return;
            const ref = parseImageReference(image.source);
            try {
              const { repository, reference } = runImage(engine, ref, 'source');
              const head = await repository.headManifest(reference);
              if (!head)
                return await finish(image.index, { status: 'failed', message: `source ${image.source} not found` });
              await this.#deps.store.annotateImage(runId, image.index, { digest: head.digest });
            } catch (err) {
              // An image that is missing or unreadable fails alone; a registry that refuses or cannot be reached fails the run.
              if (err instanceof FerryError && !err.retryable && !(err instanceof AuthenticationError))
                await finish(image.index, { status: 'failed', message: describeError(err) });
              else refused ??= `source ${ref.registry}: ${describeError(err)}`;
            }
          }),
        ),
    );
    if (refused !== undefined) {
      await this.#failRun(run, images, refused);
      return stop;
    }
    const open = images.filter((i) => i.status === 'pending' && !finished.has(i.index)).map((i) => i.index);
    return {
      runId,
      proceed: open.length > 0,
      indexes: open,
      failFast: run.options.failFast,
      distributed: open.length > distributedThreshold,
    };
  }

  async copyImage(input: unknown): Promise<{ status: string }> {
    const { runId, index } = imageInput.parse(input);
    const started = await this.#deps.store.startImage(runId, index);
    if (started.kind === 'run-not-active') return { status: started.status };
    if (started.kind === 'already-final') return { status: started.image.status };
    const { run, image } = started;
    const cancel = watchCancel(runId, {
      store: this.#deps.store,
      ...(this.#deps.cancellations ? { cancellations: this.#deps.cancellations } : {}),
      pollMs: this.#deps.cancelPollMs ?? 5_000,
    });
    try {
      return await this.#copy(run, image, cancel);
    } finally {
      cancel.stop();
    }
  }

  async #copy(run: RunRecord, image: ImageRecord, cancel: CancelWatch): Promise<{ status: string }> {
    const { runId, index } = image;
    const engine = this.#deps.engines.forRun(run);
    const source = parseImageReference(image.source);
    const destination = parseImageReference(image.destination);
    const from = runImage(engine, source, 'source');
    const to = runImage(engine, destination, 'destination');
    const pair: ImagePair = [
      // The digest Plan resolved the tag to: a tag that moves during the run does not change what it copies.
      { ...from, reference: image.digest ?? from.reference },
      // Every blob and manifest push first asks whether the run was cancelled: no tag after a cancel.
      { ...to, repository: withCheckpoints(to.repository, cancel.checkpoint) },
    ];
    try {
      if (run.options.dryRun) return await this.#dryRun(run, index, engine, pair);
      const result = await engine.copier.copy(...pair, {
        platforms: run.options.platforms.map(parsePlatform),
        referrers: run.options.referrers,
        keepExistingTags: !run.options.override,
        signal: cancel.signal,
      });
      const status = result.status === 'copied' ? 'completed' : 'skipped';
      const message =
        result.note ??
        (result.status === 'skipped'
          ? 'destination is up to date'
          : `copied ${result.blobs.copied} blobs, mounted ${result.blobs.mounted}, ${result.blobs.skipped} already there`);
      await this.#deps.store.finishImage(runId, index, { status, digest: result.digest, bytes: result.bytes, message });
      return { status };
    } catch (err) {
      if (cancel.signal.aborted) {
        this.#logger.info('image copy stopped: run cancelled', { runId, index });
        await this.#deps.store.finishImage(runId, index, { status: 'failed', message: cancelledMessage });
        return { status: 'cancelled' };
      }
      const retryable = err instanceof FerryError ? err.retryable : isTransientNetworkError(err);
      this.#logger.warn('image copy failed', { runId, index, retryable, error: describeError(err) });
      if (retryable) throw err;
      await this.#deps.store.finishImage(runId, index, { status: 'failed', message: describeError(err) });
      await this.#stopIfFailFast(run);
      return { status: 'failed' };
    }
  }

  /**
   * A dry run's image: what copying it would do, found by reading only, reported as `skipped`
   * with `bytes` = what a copy would move.
   */
  async #dryRun(run: RunRecord, index: number, engine: RunEngine, pair: ImagePair): Promise<{ status: string }> {
    const plan = await engine.copier.plan(...pair, {
      platforms: run.options.platforms.map(parsePlatform),
      keepExistingTags: !run.options.override,
    });
    const message =
      plan.status === 'up-to-date'
        ? 'dry run: destination is up to date'
        : plan.status === 'tag-kept'
          ? `dry run: ${plan.note ?? 'destination tag kept'}`
          : `dry run: would copy ${plan.missing.blobs} blobs (${formatBytes(plan.missing.bytes)}), ${plan.present} already there; ${plan.manifestGets} manifest GETs from the source`;
    await this.#deps.store.finishImage(run.runId, index, {
      status: 'skipped',
      digest: plan.digest,
      bytes: plan.missing.bytes,
      message,
    });
    return { status: 'skipped' };
  }

  /** After the state machine gave up retrying an image. */
  async recordFailure(input: unknown): Promise<{ status: 'failed' }> {
    const { runId, index, error } = failureInput.parse(input);
    await this.#deps.store.finishImage(runId, index, {
      status: 'failed',
      message: `${causeMessage(error?.Cause) ?? error?.Error ?? 'failed'} (gave up after retries)`,
    });
    const run = await this.#deps.store.getRun(runId);
    if (run) await this.#stopIfFailFast(run);
    return { status: 'failed' };
  }

  async finish(input: unknown): Promise<{ status: string }> {
    const { runId } = planInput.parse(input);
    const run = await this.#deps.store.getRun(runId);
    if (!run) return { status: 'missing' };
    // The workflow stopped early (failFast, cancel): say why the rest were not copied. Copies
    // still under way (failFast ends the Map while they run) finish and record themselves.
    const message =
      run.status === 'cancelled'
        ? cancelledMessage
        : run.options.failFast
          ? 'not copied: the run stopped at the first failure (failFast)'
          : 'not copied: the workflow ended before this image ran';
    const images = await closeOpenImages(this.#deps.store, runId, message, { statuses: ['pending'] });
    const counts = countImages(images);
    // A cancelled run keeps its status; finishRun then only records the final counts.
    const summary = run.options.dryRun ? dryRunSummary(images) : undefined;
    await this.#deps.store.finishRun(runId, {
      status: finalStatus(images),
      ...counts,
      ...(summary === undefined ? {} : { message: summary }),
    });
    const ended = (await this.#deps.store.getRun(runId)) ?? run;
    await this.#releaseCredentials(runId);
    await this.#deps.events.runFinished({
      runId,
      status: ended.status,
      totalImages: run.totalImages,
      imagesFailed: counts.imagesFailed,
      bytesCopied: counts.bytesCopied,
      ...(run.options.schedule ? { schedule: run.options.schedule } : {}),
    });
    return { status: ended.status };
  }

  /** The run's own secrets go when it ends; a failure here leaves them to the sweep, it does not fail the run. */
  async #releaseCredentials(runId: string): Promise<void> {
    try {
      await this.#deps.vault?.release(runId);
    } catch (err) {
      this.#logger.warn('run secrets not deleted (the sweep will)', { runId, error: describeError(err) });
    }
  }

  /** failFast: the first failure ends the run at once, so no further image starts (startImage checks the run). */
  async #stopIfFailFast(run: RunRecord): Promise<void> {
    if (!run.options.failFast) return;
    await this.#deps.store.finishRun(run.runId, {
      status: 'failed',
      message: 'stopped at the first failure (failFast)',
      ...countImages(await this.#deps.store.listImages(run.runId)),
    });
  }

  async #failRun(run: RunRecord, images: readonly ImageRecord[], message: string): Promise<void> {
    this.#logger.warn('preflight failed', { runId: run.runId, message });
    const closed = await closeOpenImages(this.#deps.store, run.runId, `not copied: ${message}`, { images });
    await this.#deps.store.finishRun(run.runId, { status: 'failed', message, ...countImages(closed) });
  }
}

/** Lambda's Cause is JSON `{errorType, errorMessage}`; the local interpreter's is the message. */
function causeMessage(cause: string | undefined): string | undefined {
  if (cause === undefined) return undefined;
  try {
    const parsed = z.object({ errorMessage: z.string() }).safeParse(JSON.parse(cause));
    return parsed.success ? parsed.data.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** A dry run's result in one line: how many images would copy, and the bytes (per image: a blob shared by images counts in each). */
function dryRunSummary(images: readonly ImageRecord[]): string {
  const wouldCopy = images.filter((i) => i.message?.startsWith('dry run: would copy'));
  const bytes = wouldCopy.reduce((n, i) => n + (i.bytes ?? 0), 0);
  const failed = images.filter((i) => i.status === 'failed').length;
  return `dry run: ${wouldCopy.length} of ${images.length} images would copy, ${formatBytes(bytes)} at most${failed > 0 ? `; ${failed} failed` : ''}`;
}
