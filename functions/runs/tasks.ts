import { type ImageCheckpoint, parseCheckpoint } from '../mirror/blob-checkpoint.js';
import { withPullWaitScope } from '../mirror/pull-wait-scope.js';
import { describeError } from '../oci/errors.js';
import { silentLogger, type Logger } from '../oci/log.js';
import { parseDigest } from '../oci/digest.js';
import { parsePlatform } from '../oci/manifest.js';
import { parseImageReference } from '../oci/reference.js';
import type { RepositoryRef } from '../oci/repository.js';
import { isRetryable } from '../oci/retry.js';
import { type CancelWatch, watchCancel, withCheckpoints } from './cancel-watch.js';
import { type RunEngine, runImage } from './engine.js';
import { cancelledMessage } from './cancellation.js';
import { copyChartItem } from './chart-items.js';
import { assessImage } from './dry-run.js';
import { finishFailedRun, finishRun, recordImageFailure, stopIfFailFast } from './finish-run.js';
import type { ImageRecord, ImageStatus, RunRecord, RunStatus } from './model.js';
import { type Preflight, preflightRun } from './preflight.js';
import type { RunTaskDeps } from './task-deps.js';
import type { TaskFailure } from './task-failure.js';

export type { RunTaskDeps } from './task-deps.js';
export type { Preflight } from './preflight.js';
export type { CopyLimits, TaskFailure } from './task-failure.js';

/**
 * Where one image's copy stands after `copyImage`: its own status, or the run's when the run had
 * ended; or `continue`: the copy parked its work before the Lambda deadline (a huge layer's
 * checkpoint) and the workflow invokes the task again, while `invocations` (the image's count so
 * far) stays under maxCopyInvocations (contract.ts).
 */
/** What one invocation of the copy task knows of itself: the time it has left, when it has a deadline. */
export interface CopyInvocation {
  readonly remainingMs?: () => number;
}

/** A stored checkpoint, parsed; undefined (start over, safe: copies are keyed by digest) when absent or damaged. */
function parseStoredCheckpoint(stored: string | undefined): ImageCheckpoint | undefined {
  if (stored === undefined) return undefined;
  try {
    return parseCheckpoint(JSON.parse(stored));
  } catch {
    return undefined;
  }
}

export type CopyImageResult =
  { readonly status: ImageStatus | RunStatus } | { readonly status: 'continue'; readonly invocations: number };

/**
 * The use cases of a run's workflow, on parsed values: preflight the run, copy one image, record
 * an image the workflow gave up on, finish the run. Retryable copy errors are thrown (the
 * workflow retries); everything else is recorded on the image and returned as a value. What the
 * workflow engine passes and expects (task inputs, the Map's threshold, error envelopes) is the
 * workflow adapter's (handlers/workflow), not this.
 */
export class RunTasks {
  readonly #deps: RunTaskDeps;
  readonly #logger: Logger;

  constructor(deps: RunTaskDeps) {
    this.#deps = deps;
    this.#logger = deps.logger ?? silentLogger;
  }

  /** Checks credentials and sources before any copy; see preflightRun. */
  preflight(runId: string): Promise<Preflight> {
    return preflightRun(this.#deps, this.#logger, runId);
  }

  /**
   * Copies (or, in a dry run, assesses) one image of the run, unless the run has ended or the
   * image is final. With `remainingMs` (the Lambda's `getRemainingTimeInMillis`, or `ferry serve
   * --task-deadline`), a copy that cannot finish in time parks before the deadline: its checkpoint
   * is stored with the image and `continue` returned, and the next invocation resumes from it.
   */
  async copyImage(runId: string, index: number, invocation: CopyInvocation = {}): Promise<CopyImageResult> {
    const started = await this.#deps.store.startImage(runId, index);
    if (started.kind === 'run-not-active') return { status: started.status };
    if (started.kind === 'already-final') return { status: started.image.status };
    const { run, image } = started;
    // Counted before any work: an invocation the Lambda deadline or memory kills still counts.
    const invocations = await this.#deps.store.countInvocation(runId, index);
    const cancel = watchCancel(runId, {
      store: this.#deps.store,
      ...(this.#deps.cancellations ? { cancellations: this.#deps.cancellations } : {}),
      pollMs: this.#deps.cancelPollMs ?? 5_000,
    });
    try {
      // A wait for an upstream's pull budget is said on the image; it may last while the task has
      // time for it (less a minute to copy after), else the image fails saying when the budget resets.
      const { remainingMs } = invocation;
      return await withPullWaitScope(
        {
          onWait: (wait) =>
            void this.#deps.store.annotateImage(runId, index, { message: wait.message }).catch(() => undefined),
          ...(remainingMs === undefined ? {} : { remainingMs: () => remainingMs() - 60_000 }),
        },
        () => this.#copy(run, image, cancel, { ...invocation, invocations }),
      );
    } finally {
      cancel.stop();
    }
  }

  /**
   * An image the workflow gave up on: failed with a message saying why (see failureMessage; a
   * plain `reason` is taken as a typed error's message after its retries); a failFast run stops.
   */
  async recordFailure(runId: string, index: number, failure: TaskFailure | string): Promise<{ status: 'failed' }> {
    await recordImageFailure(this.#deps.store, runId, index, failure);
    return { status: 'failed' };
  }

  /** Final status and counts, credentials released, the event published; see finishRun. */
  finish(runId: string): Promise<{ status: RunStatus | 'missing' }> {
    return finishRun(this.#deps, this.#logger, runId);
  }

  /** Finish failed (its retries spent): the run is only marked failed with `cause`; see finishFailedRun. */
  finishFailed(runId: string, cause: string): Promise<{ status: RunStatus | 'missing' }> {
    return finishFailedRun(this.#deps, this.#logger, runId, cause);
  }

  /**
   * A mirrored release image's signatures (base64), fetched by its digest from the store the engine
   * names; no store, none found or a store that fails is a note on the image, never a failed copy.
   */
  async #releaseSignatures(
    engine: RunEngine,
    digest: string,
    runId: string,
    index: number,
  ): Promise<{ signatures?: string[]; note?: string }> {
    if (engine.releaseSignatures === undefined)
      return { note: 'release signatures not fetched: no signature store configured' };
    try {
      const found = await engine.releaseSignatures(parseDigest(digest));
      if (found.length === 0) return { note: 'the signature store has no signature for this release' };
      return { signatures: found.map((s) => s.toString('base64')) };
    } catch (err) {
      this.#logger.warn('release signatures not fetched', { runId, index, error: describeError(err) });
      return { note: `release signatures not fetched: ${describeError(err)}` };
    }
  }

  async #copy(
    run: RunRecord,
    image: ImageRecord,
    cancel: CancelWatch,
    invocation: CopyInvocation & { readonly invocations: number },
  ): Promise<CopyImageResult> {
    const { runId, index } = image;
    const engine = this.#deps.engines.forRun(run);
    const destination = runImage(engine, parseImageReference(image.destination), 'destination');
    // Every blob and manifest push first asks whether the run was cancelled: no tag after a cancel.
    const to: RepositoryRef = {
      ...destination,
      repository: withCheckpoints(destination.repository, cancel.checkpoint),
    };
    try {
      const { artifact } = image;
      if (artifact !== undefined) {
        // A chart is pushed from its URL; a catalog only by Finish, after the images it names (never by the Map).
        const outcome =
          artifact.kind === 'chart'
            ? await copyChartItem(engine, image, artifact, to.repository, run.options.dryRun)
            : { status: 'failed' as const, message: 'a rebuilt catalog is pushed when the run finishes, not copied' };
        await this.#deps.store.finishImage(runId, index, outcome);
        return { status: outcome.status };
      }
      const source = runImage(engine, parseImageReference(image.source), 'source');
      // The digest preflight resolved the tag to: a tag that moves during the run does not change what it copies.
      const from: RepositoryRef = { ...source, reference: image.digest ?? source.reference };
      if (run.options.dryRun) {
        await this.#deps.store.finishImage(runId, index, await assessImage(run, image, engine, from, to));
        return { status: 'skipped' };
      }
      const options = {
        platforms: (image.platforms ?? run.options.platforms).map(parsePlatform),
        referrers: run.options.referrers,
        keepExistingTags: !run.options.override,
        signal: cancel.signal,
      };
      const { remainingMs } = invocation;
      const resumable =
        remainingMs === undefined
          ? undefined
          : await engine.copier.copyResumable(
              from,
              to,
              { deadline: { remainingMs }, checkpoint: parseStoredCheckpoint(image.checkpoint) },
              options,
            );
      if (resumable?.status === 'continue') {
        await this.#deps.store.saveCheckpoint(runId, index, JSON.stringify(resumable.checkpoint));
        this.#logger.info('image copy parked before the deadline', {
          runId,
          index,
          invocations: invocation.invocations,
        });
        return { status: 'continue', invocations: invocation.invocations };
      }
      const result = resumable ?? (await engine.copier.copy(from, to, options));
      if (image.checkpoint !== undefined) await this.#deps.store.saveCheckpoint(runId, index, undefined);
      const status = result.status === 'copied' ? 'completed' : 'skipped';
      const resumed =
        'resumed' in result && result.resumed !== undefined
          ? `; over ${result.resumed.invocations} invocations${result.resumed.notes.length > 0 ? ` (${result.resumed.notes.join('; ')})` : ''}`
          : '';
      const message =
        (result.note ??
          (result.status === 'skipped'
            ? 'destination is up to date'
            : `copied ${result.blobs.copied} blobs, mounted ${result.blobs.mounted}, ${result.blobs.skipped} already there`)) +
        resumed;
      const signed = image.release === true ? await this.#releaseSignatures(engine, result.digest, runId, index) : {};
      await this.#deps.store.finishImage(runId, index, {
        status,
        digest: result.digest,
        bytes: result.bytes,
        message: signed.note === undefined ? message : `${message}; ${signed.note}`,
        ...(signed.signatures === undefined ? {} : { signatures: signed.signatures }),
      });
      return { status };
    } catch (err) {
      if (cancel.signal.aborted) {
        this.#logger.info('image copy stopped: run cancelled', { runId, index });
        await this.#deps.store.finishImage(runId, index, { status: 'failed', message: cancelledMessage });
        return { status: 'cancelled' };
      }
      const retryable = isRetryable(err);
      this.#logger.warn('image copy failed', { runId, index, retryable, error: describeError(err) });
      // A retry must not resume a session this failure cancelled (a digest mismatch): it starts over.
      if (image.checkpoint !== undefined) await this.#deps.store.saveCheckpoint(runId, index, undefined);
      if (retryable) throw err;
      await this.#deps.store.finishImage(runId, index, { status: 'failed', message: describeError(err) });
      await stopIfFailFast(this.#deps.store, run);
      return { status: 'failed' };
    }
  }
}
