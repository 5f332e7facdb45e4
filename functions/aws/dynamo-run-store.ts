import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startRequestTimeoutSeconds } from '../contract.js';
import type { ImageRecord, RunRecord } from '../runs/model.js';
import { Limiter } from '../mirror/limiter.js';
import type {
  IdempotencyClaim,
  ImageOutcome,
  ImageQuery,
  ImageSlice,
  Page,
  RequestedImage,
  RunStore,
  StartImageResult,
} from '../runs/store.js';
import { batchSize } from './dynamo-batch.js';
import { runScopedExpiry } from './dynamo-run-items.js';
import type { DynamoTable } from './dynamo-expressions.js';
import { DynamoIdempotency } from './dynamo-idempotency.js';
import { countImageInvocation } from './dynamo-image-invocations.js';
import { DynamoImages } from './dynamo-images.js';
import { DynamoRunRequests } from './dynamo-run-request.js';
import { DynamoRuns } from './dynamo-runs.js';
import { acquireScheduleLock } from './dynamo-schedule-lock.js';

// Kept importable from here: the table's creation and the listing token's error live in their own files.

export { createRunTable } from './dynamo-run-table.js';

export interface DynamoRunStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long finished runs are kept (TTL); every item of a run expires at most `maxRunDays` (contract.ts) plus this after it is written. */
  readonly retentionDays?: number;
  /** How many image batches Plan writes at once. */
  readonly writeConcurrency?: number;
  readonly now?: () => Date;
  /**
   * How long after its claim an Idempotency-Key whose run was never written may be taken over
   * (its request died). Default: the start request's timeout plus a margin for clock skew.
   * WARNING: must exceed the longest a request writing a run can live, or a retry starts a second run.
   */
  readonly idempotencyTakeoverMs?: number;
  /** How long a retry waits for the run of a request still writing it before answering "in progress". */
  readonly idempotencyWaitMs?: number;
}

/** Clocks of two Lambdas differ by far less; a takeover waits this much longer to be sure. */
const clockMarginMs = 5_000;

/**
 * RunStore on one DynamoDB table: `RUN#<id>`/`RUN` holds the run, `RUN#<id>`/`IMG#<n>` its
 * images, `IDEM#…` the Idempotency-Keys, `SCHEDULE#…` the schedule locks; a GSI lists runs by
 * start time. Works on DynamoDB, DynamoDB Local and dynalite (no transactions needed). Each
 * aggregate has its own adapter; this composes them.
 */
export class DynamoRunStore implements RunStore {
  readonly #table: DynamoTable;
  readonly #runs: DynamoRuns;
  readonly #images: DynamoImages;
  readonly #requests: DynamoRunRequests;
  readonly #keys: DynamoIdempotency;
  readonly #takeoverMs: number;
  readonly #retentionSeconds: number;
  readonly #writeConcurrency: number;

  constructor(options: DynamoRunStoreOptions) {
    this.#table = { client: options.client, name: options.tableName, now: options.now ?? (() => new Date()) };
    const retentionSeconds = Math.round((options.retentionDays ?? 30) * 86_400);
    this.#runs = new DynamoRuns(this.#table, retentionSeconds);
    this.#images = new DynamoImages(this.#table);
    this.#requests = new DynamoRunRequests(this.#table);
    this.#retentionSeconds = retentionSeconds;
    this.#writeConcurrency = options.writeConcurrency ?? 8;
    this.#takeoverMs = options.idempotencyTakeoverMs ?? startRequestTimeoutSeconds * 1000 + clockMarginMs;
    this.#keys = new DynamoIdempotency(this.#table, {
      takeoverMs: this.#takeoverMs,
      waitMs: options.idempotencyWaitMs ?? 2_000,
      getRun: (runId) => this.getRun(runId),
    });
  }

  async createRun(
    run: RunRecord,
    images: readonly ImageRecord[],
    idempotency?: IdempotencyClaim,
  ): Promise<{ run: RunRecord; created: boolean }> {
    if (idempotency !== undefined) {
      const earlier = await this.#keys.claim(run.runId, idempotency);
      if (earlier) return { run: earlier, created: false };
    }
    // A long write (10,000 images: 400 batches) renews the key's claim now and then, so that a
    // slow writer (ferry serve has no request timeout) is never taken for a dead one.
    let renewed = this.#table.now().getTime();
    const renew = async (): Promise<void> => {
      if (idempotency === undefined || this.#table.now().getTime() - renewed < this.#takeoverMs / 4) return;
      renewed = this.#table.now().getTime();
      await this.#keys.renew(run.runId, idempotency, renewed);
    };
    for (let i = 0; i < images.length; i += batchSize) {
      await renew();
      await this.#images.putBatch(images.slice(i, i + batchSize), this.#expiresAt());
    }
    await renew();
    await this.#runs.put(run, this.#expiresAt());
    return { run, created: true };
  }

  findByIdempotencyKey(claim: IdempotencyClaim): Promise<RunRecord | undefined> {
    return this.#keys.find(claim);
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#runs.get(runId);
  }

  putRunDocument(runId: string, document: unknown): Promise<void> {
    return this.#runs.putDocument(runId, document, this.#expiresAt());
  }

  putRunRequest(runId: string, images: readonly RequestedImage[]): Promise<void> {
    return this.#requests.put(runId, images, this.#expiresAt());
  }

  getRunRequest(runId: string): Promise<RequestedImage[] | undefined> {
    return this.#requests.get(runId);
  }

  getRunDocument(runId: string): Promise<unknown> {
    return this.#runs.getDocument(runId);
  }

  async addImages(runId: string, images: readonly ImageRecord[]): Promise<void> {
    const sorted = [...images].sort((a, b) => a.index - b.index);
    const last = sorted.pop();
    const expiresAt = this.#expiresAt();
    const limiter = new Limiter(this.#writeConcurrency);
    const batches = [];
    for (let i = 0; i < sorted.length; i += batchSize) batches.push(sorted.slice(i, i + batchSize));
    await Promise.all(batches.map((batch) => limiter.run(() => this.#images.putBatch(batch, expiresAt))));
    // WARNING: the last image goes last, alone: once it reads back, every image is written (RunStore.addImages).
    if (last !== undefined) await this.#images.putBatch([last], expiresAt);
    await this.#runs.set(runId, { totalImages: images.length });
  }

  listRuns(limit: number, nextToken?: string): Promise<Page<RunRecord>> {
    return this.#runs.list(limit, nextToken);
  }

  listImages(runId: string): Promise<ImageRecord[]> {
    return this.#images.list(runId);
  }

  pageImages(runId: string, query: ImageQuery): Promise<ImageSlice> {
    return this.#images.page(runId, query);
  }

  getImage(runId: string, index: number): Promise<ImageRecord | undefined> {
    return this.#images.get(runId, index);
  }

  annotateImage(runId: string, index: number, fields: { digest?: string; message?: string }): Promise<void> {
    return this.#images.annotate(runId, index, fields);
  }

  reopenImage(runId: string, index: number): Promise<boolean> {
    return this.#images.reopen(runId, index);
  }

  async startImage(runId: string, index: number): Promise<StartImageResult> {
    const run = await this.getRun(runId);
    if (!run) return { kind: 'run-not-active', status: 'cancelled' };
    if (run.status !== 'in-progress') return { kind: 'run-not-active', status: run.status };
    const started = await this.#images.start(runId, index);
    if (started) return { kind: 'started', run, image: started };
    const image = await this.getImage(runId, index);
    if (!image) throw new Error(`run ${runId} has no image ${index}`);
    return { kind: 'already-final', image };
  }

  countInvocation(runId: string, index: number): Promise<number> {
    return countImageInvocation(this.#table, runId, index);
  }

  async finishImage(runId: string, index: number, outcome: ImageOutcome): Promise<boolean> {
    if (!(await this.#images.finish(runId, index, outcome))) return false;
    await this.#runs.count(runId, outcome.status === 'failed', outcome.bytes ?? 0);
    return true;
  }

  setExecution(runId: string, executionId: string): Promise<void> {
    return this.#runs.set(runId, { executionId });
  }

  cancelRun(runId: string): Promise<boolean> {
    return this.#runs.cancel(runId);
  }

  finishRun(runId: string, result: Parameters<RunStore['finishRun']>[1]): Promise<boolean> {
    return this.#runs.finish(runId, result);
  }

  /** When an item of a run written now expires: the run's longest life plus its retention. */
  #expiresAt(): number {
    return runScopedExpiry(this.#table.now(), this.#retentionSeconds);
  }

  acquireScheduleLock(
    schedule: string,
    runId: string,
  ): Promise<{ acquired: true } | { acquired: false; heldBy: string }> {
    return acquireScheduleLock(this.#table, (id) => this.getRun(id), schedule, runId);
  }
}
