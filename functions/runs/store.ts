import { Limiter } from '../mirror/limiter.js';
import {
  type DryRunResult,
  type ImageRecord,
  type ImageStatus,
  openImageStatuses,
  type RunRecord,
  type RunStatus,
} from './model.js';

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/** An image a run's request lists, as the run stores it until its Plan writes the image items. */
export interface RequestedImage {
  readonly source: string;
  readonly destination: string;
}

/** Which of a run's images one read returns: after index `after` (exclusive), in index order, at most `limit`. */
export interface ImageQuery {
  readonly limit: number;
  readonly after?: number;
  /** Only images with this status (the record's status: a prune run's tags are `completed`/`skipped`). */
  readonly status?: ImageStatus;
}

/** One read of a run's images: `more` when images beyond the last one may match. */
export interface ImageSlice {
  readonly items: ImageRecord[];
  readonly more: boolean;
}

export interface ImageOutcome {
  readonly status: Extract<ImageStatus, 'completed' | 'skipped' | 'failed'>;
  readonly message?: string;
  readonly digest?: string;
  readonly bytes?: number;
  /** A dry run's finding, recorded on the image as data (the run summary counts it). */
  readonly dryRun?: DryRunResult;
  /** A prune run's tag that was deleted. */
  readonly prune?: ImageRecord['prune'];
  /** A release image's signatures (base64). */
  readonly signatures?: ImageRecord['signatures'];
}

/**
 * An Idempotency-Key as one caller used it: the key is scoped to the caller (another caller's
 * same key is another key) and bound to the request (a hash of its canonical form).
 */
export interface IdempotencyClaim {
  readonly key: string;
  readonly caller: string;
  readonly requestHash: string;
}

/** What `startImage` found. */
export type StartImageResult =
  | { readonly kind: 'started'; readonly image: ImageRecord; readonly run: RunRecord }
  | { readonly kind: 'run-not-active'; readonly status: RunStatus }
  | { readonly kind: 'already-final'; readonly image: ImageRecord };

/**
 * Run state: one run item and one item per image. Status changes are conditional writes: an
 * image never leaves a final status, a finished run never restarts, a cancelled run starts no
 * new copies. Expired (TTL) runs read as absent.
 */
export interface RunStore {
  /**
   * Writes a new run and its images. With an idempotency key this caller used before for the
   * same request, writes nothing and returns the earlier run (`created: false`); for another
   * request, throws IdempotencyConflictError; while that earlier request is still writing its
   * run, throws IdempotencyInProgressError.
   */
  createRun(
    run: RunRecord,
    images: readonly ImageRecord[],
    idempotency?: IdempotencyClaim,
  ): Promise<{ run: RunRecord; created: boolean }>;
  /**
   * The run this caller's key already stands for (undefined: none yet); throws
   * IdempotencyConflictError when the key was used for another request, and
   * IdempotencyInProgressError while the request holding the key is still writing its run. A look before anything
   * is prepared for a new run (run-scoped secrets); `createRun` still decides atomically.
   */
  findByIdempotencyKey(claim: IdempotencyClaim): Promise<RunRecord | undefined>;
  /**
   * Keeps the image-set document a run mirrors (a JSON value), written before the run itself so
   * that a run that exists always has its document; read by the workflow's Plan task.
   */
  putRunDocument(runId: string, document: unknown): Promise<void>;
  getRunDocument(runId: string): Promise<unknown>;
  /**
   * Keeps the images a run's request lists (any number the API accepts: stored in item-sized
   * pieces), written before the run itself; the workflow's Plan task writes the image items from
   * it, so that starting a run writes a few items, not one per image.
   */
  putRunRequest(runId: string, images: readonly RequestedImage[]): Promise<void>;
  /** The images the run's request listed; undefined for a run that stored none (a set, or an older run whose items were written at its start). */
  getRunRequest(runId: string): Promise<RequestedImage[] | undefined>;
  /**
   * Writes a run's images (indexes 0…n-1; a retried write overwrites them), in parallel batches,
   * then sets the run's `totalImages` to `images.length`.
   * WARNING: the image with the highest index is written last: once it can be read, every image
   * is written (Plan relies on this to write a run's images once, also when it is retried).
   */
  addImages(runId: string, images: readonly ImageRecord[]): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(limit: number, nextToken?: string): Promise<Page<RunRecord>>;
  /** Every image of the run, in index order (the workflow's reads; the API pages with `pageImages`). */
  listImages(runId: string): Promise<ImageRecord[]>;
  /** One slice of the run's images in index order, optionally of one status only, without reading the others. */
  pageImages(runId: string, query: ImageQuery): Promise<ImageSlice>;
  getImage(runId: string, index: number): Promise<ImageRecord | undefined>;
  /** Records what preflight learned (resolved digest, a message) on a still-pending image. */
  annotateImage(runId: string, index: number, fields: { digest?: string; message?: string }): Promise<void>;
  /** in-progress → pending: an image whose copy was interrupted (a crashed server) is copied again. Returns false when it was not in progress. */
  reopenImage(runId: string, index: number): Promise<boolean>;
  /** pending|in-progress → in-progress, only while the run is in progress. */
  startImage(runId: string, index: number): Promise<StartImageResult>;
  /**
   * One more invocation of the image's copy task (counted on every start, retries and `continue`
   * resumptions included): adds one to the image's `invocations` and returns the new count.
   */
  countInvocation(runId: string, index: number): Promise<number>;
  /** pending|in-progress → a final status; adds to the run's counters. Returns false when the image was already final. */
  finishImage(runId: string, index: number, outcome: ImageOutcome): Promise<boolean>;
  setExecution(runId: string, executionId: string): Promise<void>;
  /** in-progress → cancelled. Returns false when the run was not in progress. */
  cancelRun(runId: string): Promise<boolean>;
  /** in-progress → completed|failed with recounted totals. Returns false when the run had already ended (cancelled). */
  finishRun(
    runId: string,
    result: {
      status: Exclude<RunStatus, 'in-progress'>;
      message?: string;
      imagesProcessed: number;
      imagesFailed: number;
      bytesCopied: number;
    },
  ): Promise<boolean>;
  /** Takes the lock of a schedule for a run unless the run holding it is still in progress. */
  acquireScheduleLock(
    schedule: string,
    runId: string,
  ): Promise<{ acquired: true } | { acquired: false; heldBy: string }>;
}

/**
 * Ends every image of the run still pending or in progress as failed with `message`: when a run
 * ends without its workflow finishing them (cancel, a failed preflight, Finish after the workflow
 * stopped early, a run ferry serve cannot resume). Each write is conditional, so an image whose
 * copy reached a final status first keeps it, and a copy that finishes later changes nothing.
 * Returns the run's images afterwards (`images`: as already listed, saving a read when none is open).
 * `statuses`: which open images to close (Finish leaves copies still under way to finish themselves).
 */
export async function closeOpenImages(
  store: RunStore,
  runId: string,
  message: string,
  options: { images?: readonly ImageRecord[]; statuses?: readonly ImageStatus[] } = {},
): Promise<ImageRecord[]> {
  const listed = options.images ?? (await store.listImages(runId));
  const statuses = options.statuses ?? openImageStatuses;
  const open = listed.filter((i) => statuses.includes(i.status));
  if (open.length === 0) return [...listed];
  const limiter = new Limiter(25);
  await Promise.all(
    open.map((i) => limiter.run(() => store.finishImage(runId, i.index, { status: 'failed', message }))),
  );
  return store.listImages(runId);
}
