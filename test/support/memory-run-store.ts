import { IdempotencyConflictError, InvalidTokenError } from '../../functions/runs/errors.js';
import type { ImageRecord, RunRecord } from '../../functions/runs/model.js';
import { capImageMessage } from '../../functions/runs/limits.js';
import {
  type IdempotencyClaim,
  type ImageOutcome,
  type ImageQuery,
  type ImageSlice,
  type Page,
  type RequestedImage,
  type RunStore,
  type StartImageResult,
} from '../../functions/runs/store.js';

/** One write the tasks made, in order: what a unit test asserts on instead of timing. */
export interface RunStoreCall {
  readonly op:
    | 'createRun'
    | 'putRunRequest'
    | 'addImages'
    | 'annotateImage'
    | 'startImage'
    | 'finishImage'
    | 'finishRun'
    | 'cancelRun'
    | 'reopenImage';
  readonly runId: string;
  readonly index?: number;
  /** finishImage: whether the write was made (false: the image was already final). */
  readonly made?: boolean;
}

/**
 * RunStore in memory, with DynamoRunStore's rules (runs/store.ts): an image never leaves a final
 * status, a run ends once (a cancelled run only gets its final counts), a finished image adds to
 * the run's counters exactly once, a cancelled run starts no image, an Idempotency-Key is bound
 * to its caller and request, a schedule's lock passes on only from a run no longer in progress.
 * Records are replaced, never mutated, so a record a caller holds is a snapshot, as a read would be.
 */
export class MemoryRunStore implements RunStore {
  readonly runs = new Map<string, RunRecord>();
  readonly images = new Map<string, Map<number, ImageRecord>>();
  readonly calls: RunStoreCall[] = [];
  readonly #keys = new Map<string, { runId: string; requestHash: string }>();
  readonly #locks = new Map<string, string>();
  readonly #now: () => Date;

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date('2026-01-01T00:00:00.000Z'));
  }

  async createRun(
    run: RunRecord,
    images: readonly ImageRecord[],
    idempotency?: IdempotencyClaim,
  ): Promise<{ run: RunRecord; created: boolean }> {
    if (idempotency !== undefined) {
      const earlier = await this.findByIdempotencyKey(idempotency);
      if (earlier) return { run: earlier, created: false };
      this.#keys.set(keyOf(idempotency), { runId: run.runId, requestHash: idempotency.requestHash });
    }
    if (this.runs.has(run.runId)) throw new Error(`run ${run.runId} exists`);
    this.calls.push({ op: 'createRun', runId: run.runId });
    this.images.set(run.runId, new Map(images.map((i) => [i.index, i])));
    this.runs.set(run.runId, run);
    return { run, created: true };
  }

  async findByIdempotencyKey(claim: IdempotencyClaim): Promise<RunRecord | undefined> {
    const held = this.#keys.get(keyOf(claim));
    if (!held) return undefined;
    if (held.requestHash !== claim.requestHash) throw new IdempotencyConflictError(claim.key);
    return this.runs.get(held.runId);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId);
  }

  readonly documents = new Map<string, string>();

  async putRunDocument(runId: string, document: unknown): Promise<void> {
    this.documents.set(runId, JSON.stringify(document));
  }

  async getRunDocument(runId: string): Promise<unknown> {
    const text = this.documents.get(runId);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  readonly requests = new Map<string, string>();

  async putRunRequest(runId: string, images: readonly RequestedImage[]): Promise<void> {
    this.calls.push({ op: 'putRunRequest', runId });
    this.requests.set(runId, JSON.stringify(images));
  }

  async getRunRequest(runId: string): Promise<RequestedImage[] | undefined> {
    const text = this.requests.get(runId);
    return text === undefined ? undefined : (JSON.parse(text) as RequestedImage[]);
  }

  async addImages(runId: string, images: readonly ImageRecord[]): Promise<void> {
    const run = this.runs.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    this.calls.push({ op: 'addImages', runId });
    const own = this.images.get(runId) ?? new Map<number, ImageRecord>();
    for (const image of images) own.set(image.index, image);
    this.images.set(runId, own);
    this.runs.set(runId, { ...run, totalImages: images.length });
  }

  /** Newest first (start time, then id, as the listing index sorts); the token is the last run's id. */
  async listRuns(limit: number, nextToken?: string): Promise<Page<RunRecord>> {
    const all = [...this.runs.values()].sort((a, b) =>
      `${b.startTime}#${b.runId}`.localeCompare(`${a.startTime}#${a.runId}`),
    );
    let start = 0;
    if (nextToken !== undefined) {
      const at = all.findIndex((r) => r.runId === nextToken);
      if (at < 0) throw new InvalidTokenError('nextToken: not a token this API returned');
      start = at + 1;
    }
    const items = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return { items, ...(more && items.length > 0 ? { nextToken: items[items.length - 1]!.runId } : {}) };
  }

  async listImages(runId: string): Promise<ImageRecord[]> {
    return [...(this.images.get(runId)?.values() ?? [])].sort((a, b) => a.index - b.index);
  }

  async pageImages(runId: string, query: ImageQuery): Promise<ImageSlice> {
    const matching = (await this.listImages(runId)).filter(
      (i) => (query.after === undefined || i.index > query.after) && (query.status ?? i.status) === i.status,
    );
    return { items: matching.slice(0, query.limit), more: matching.length > query.limit };
  }

  async getImage(runId: string, index: number): Promise<ImageRecord | undefined> {
    return this.images.get(runId)?.get(index);
  }

  /** Unconditional, as DynamoDB's update; a missing image stays missing. */
  async annotateImage(runId: string, index: number, fields: { digest?: string; message?: string }): Promise<void> {
    this.calls.push({ op: 'annotateImage', runId, index });
    const image = await this.getImage(runId, index);
    if (!image) return;
    this.#putImage({
      ...image,
      ...(fields.digest === undefined ? {} : { digest: fields.digest }),
      ...(fields.message === undefined ? {} : { message: capImageMessage(fields.message) }),
    });
  }

  async reopenImage(runId: string, index: number): Promise<boolean> {
    this.calls.push({ op: 'reopenImage', runId, index });
    const image = await this.getImage(runId, index);
    if (image?.status !== 'in-progress') return false;
    const { startTime: _started, ...rest } = image;
    this.#putImage({ ...rest, status: 'pending' });
    return true;
  }

  async startImage(runId: string, index: number): Promise<StartImageResult> {
    this.calls.push({ op: 'startImage', runId, index });
    const run = this.runs.get(runId);
    if (!run) return { kind: 'run-not-active', status: 'cancelled' };
    if (run.status !== 'in-progress') return { kind: 'run-not-active', status: run.status };
    const image = await this.getImage(runId, index);
    if (!image) throw new Error(`run ${runId} has no image ${index}`);
    if (image.status !== 'pending' && image.status !== 'in-progress') return { kind: 'already-final', image };
    const started: ImageRecord = {
      ...image,
      status: 'in-progress',
      startTime: image.startTime ?? this.#now().toISOString(),
    };
    this.#putImage(started);
    return { kind: 'started', run, image: started };
  }

  async countInvocation(runId: string, index: number): Promise<number> {
    const image = await this.getImage(runId, index);
    if (!image) throw new Error(`run ${runId} has no image ${index}`);
    const invocations = (image.invocations ?? 0) + 1;
    this.#putImage({ ...image, invocations });
    return invocations;
  }

  async finishImage(runId: string, index: number, outcome: ImageOutcome): Promise<boolean> {
    const image = await this.getImage(runId, index);
    const made = image !== undefined && (image.status === 'pending' || image.status === 'in-progress');
    this.calls.push({ op: 'finishImage', runId, index, made });
    if (!made) return false;
    const endTime = this.#now().toISOString();
    this.#putImage({
      ...image,
      ...definedOf({ ...outcome, message: capImageMessage(outcome.message) }),
      endTime,
      startTime: image.startTime ?? endTime,
    });
    const run = this.runs.get(runId);
    if (run)
      this.runs.set(runId, {
        ...run,
        imagesProcessed: run.imagesProcessed + 1,
        imagesFailed: run.imagesFailed + (outcome.status === 'failed' ? 1 : 0),
        bytesCopied: run.bytesCopied + (outcome.bytes ?? 0),
      });
    return true;
  }

  async setExecution(runId: string, executionId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (run) this.runs.set(runId, { ...run, executionId });
  }

  async cancelRun(runId: string): Promise<boolean> {
    this.calls.push({ op: 'cancelRun', runId });
    return this.#end(runId, { status: 'cancelled', message: 'run cancelled' });
  }

  async finishRun(runId: string, result: Parameters<RunStore['finishRun']>[1]): Promise<boolean> {
    this.calls.push({ op: 'finishRun', runId });
    const { status, message, ...counts } = result;
    const ended = this.#end(runId, { status, ...counts, ...(message === undefined ? {} : { message }) });
    const run = this.runs.get(runId);
    // A cancelled run still gets its final counts.
    if (!ended && run) this.runs.set(runId, { ...run, ...counts });
    return ended;
  }

  async acquireScheduleLock(
    schedule: string,
    runId: string,
  ): Promise<{ acquired: true } | { acquired: false; heldBy: string }> {
    const heldBy = this.#locks.get(schedule);
    if (heldBy !== undefined && this.runs.get(heldBy)?.status === 'in-progress') return { acquired: false, heldBy };
    this.#locks.set(schedule, runId);
    return { acquired: true };
  }

  /** Images of the run by index (test reads). */
  image(runId: string, index: number): ImageRecord {
    const image = this.images.get(runId)?.get(index);
    if (!image) throw new Error(`run ${runId} has no image ${index}`);
    return image;
  }

  #end(runId: string, fields: Partial<RunRecord>): boolean {
    const run = this.runs.get(runId);
    if (run?.status !== 'in-progress') return false;
    this.runs.set(runId, { ...run, ...fields, endTime: this.#now().toISOString() });
    return true;
  }

  #putImage(image: ImageRecord): void {
    this.images.get(image.runId)?.set(image.index, image);
  }
}

const keyOf = (claim: IdempotencyClaim) => `${claim.caller}\n${claim.key}`;

/** The outcome's defined fields: an undefined field leaves the stored one as it is (as `SET` does). */
function definedOf(outcome: ImageOutcome): Partial<ImageRecord> {
  return Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined)) as Partial<ImageRecord>;
}
