import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type ImageRecord, imageStatuses, type RunRecord, runStatuses } from '../runs/model.js';
import { RunTable, startRequestTimeoutSeconds } from '../contract.js';
import { IdempotencyConflictError, IdempotencyInProgressError, InvalidTokenError } from '../runs/errors.js';
import {
  type IdempotencyClaim,
  type ImageOutcome,
  type Page,
  type RunStore,
  type StartImageResult,
} from '../runs/store.js';

const credentialRef = z.object({ secretArn: z.string() });
const runItem = z.object({
  runId: z.string(),
  status: z.enum(runStatuses),
  startTime: z.string(),
  endTime: z.string().nullable().optional(),
  totalImages: z.number(),
  imagesProcessed: z.number(),
  imagesFailed: z.number(),
  bytesCopied: z.number(),
  message: z.string().optional(),
  executionId: z.string().optional(),
  expiresAt: z.number().optional(),
  options: z.object({
    destination: z.object({
      registry: z.string(),
      prefix: z.string().optional(),
      insecure: z.boolean(),
      credentials: credentialRef.optional(),
      roleArn: z.string().optional(),
    }),
    sourceCredentials: z.record(z.string(), credentialRef),
    platforms: z.array(z.string()),
    referrers: z.boolean(),
    override: z.boolean(),
    failFast: z.boolean(),
    dryRun: z.boolean(),
    schedule: z.string().optional(),
  }),
});
const imageItem = z.object({
  runId: z.string(),
  index: z.number(),
  source: z.string(),
  destination: z.string(),
  status: z.enum(imageStatuses),
  message: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
  digest: z.string().optional(),
  bytes: z.number().optional(),
});

const idempotencyItem = z.object({
  runId: z.string(),
  requestHash: z.string().optional(),
  claimedAt: z.number().optional(),
  expiresAt: z.number().optional(),
});
type HeldKey = z.infer<typeof idempotencyItem>;
/** One caller's key: the caller is hashed (an ARN may be long), so keys of two callers never meet. */
const idempotencyPartition = (claim: IdempotencyClaim) =>
  `IDEM#${createHash('sha256').update(claim.caller).digest('hex').slice(0, 32)}#${claim.key}`;

const runKey = (runId: string) => ({ [RunTable.partitionKey]: `RUN#${runId}`, [RunTable.sortKey]: 'RUN' });
const imageKey = (runId: string, index: number) => ({
  [RunTable.partitionKey]: `RUN#${runId}`,
  [RunTable.sortKey]: `IMG#${String(index).padStart(7, '0')}`,
});

export interface DynamoRunStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long finished runs are kept (TTL). */
  readonly retentionDays?: number;
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
 * images (so a run of any size stays far below the 400 KB item limit), a GSI lists runs by
 * start time. Works on DynamoDB, DynamoDB Local and dynalite (no transactions needed).
 */
export class DynamoRunStore implements RunStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #retentionSeconds: number;
  readonly #now: () => Date;
  readonly #takeoverMs: number;
  readonly #waitMs: number;

  constructor(options: DynamoRunStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#retentionSeconds = Math.round((options.retentionDays ?? 30) * 86_400);
    this.#now = options.now ?? (() => new Date());
    this.#takeoverMs = options.idempotencyTakeoverMs ?? startRequestTimeoutSeconds * 1000 + clockMarginMs;
    this.#waitMs = options.idempotencyWaitMs ?? 2_000;
  }

  async createRun(
    run: RunRecord,
    images: readonly ImageRecord[],
    idempotency?: IdempotencyClaim,
  ): Promise<{ run: RunRecord; created: boolean }> {
    if (idempotency !== undefined) {
      const earlier = await this.#claimKey(run.runId, idempotency);
      if (earlier) return { run: earlier, created: false };
    }
    // A long write (10,000 images: 400 batches) renews the key's claim now and then, so that a
    // slow writer (ferry serve has no request timeout) is never taken for a dead one.
    let renewed = this.#now().getTime();
    const renew = async (): Promise<void> => {
      if (idempotency === undefined || this.#now().getTime() - renewed < this.#takeoverMs / 4) return;
      renewed = this.#now().getTime();
      await this.#renewKey(run.runId, idempotency, renewed);
    };
    for (let i = 0; i < images.length; i += 25) {
      await renew();
      await this.#batchPut(
        images.slice(i, i + 25).map((image) => ({ ...imageKey(image.runId, image.index), ...image })),
      );
    }
    await renew();
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: marshall(
          {
            ...runKey(run.runId),
            ...run,
            [RunTable.listPartitionKey]: 'RUNS',
            [RunTable.listSortKey]: `${run.startTime}#${run.runId}`,
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': RunTable.partitionKey },
      }),
    );
    return { run, created: true };
  }

  async findByIdempotencyKey(claim: IdempotencyClaim): Promise<RunRecord | undefined> {
    const key = marshall({ [RunTable.partitionKey]: idempotencyPartition(claim), [RunTable.sortKey]: 'IDEM' });
    const held = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: key, ConsistentRead: true }),
    );
    if (!held.Item) return undefined;
    const item = idempotencyItem.parse(unmarshall(held.Item));
    if (item.expiresAt !== undefined && item.expiresAt < this.#epoch()) return undefined;
    if (item.requestHash !== undefined && item.requestHash !== claim.requestHash)
      throw new IdempotencyConflictError(claim.key);
    const run = await this.getRun(item.runId);
    // Its request is still writing the run: nothing is prepared for a second one.
    if (!run && !this.#abandoned(item)) throw new IdempotencyInProgressError(claim.key);
    return run;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const res = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: marshall(runKey(runId)), ConsistentRead: true }),
    );
    return res.Item ? this.#toRun(res.Item) : undefined;
  }

  async listRuns(limit: number, nextToken?: string): Promise<Page<RunRecord>> {
    const res = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: RunTable.listIndex,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': RunTable.listPartitionKey },
        ExpressionAttributeValues: marshall({ ':p': 'RUNS' }),
        ScanIndexForward: false,
        Limit: limit,
        ...(nextToken === undefined ? {} : { ExclusiveStartKey: decodeToken(nextToken) }),
      }),
    );
    const items = (res.Items ?? []).map((item) => this.#toRun(item)).filter((r): r is RunRecord => r !== undefined);
    return { items, ...(res.LastEvaluatedKey ? { nextToken: encodeToken(res.LastEvaluatedKey) } : {}) };
  }

  async listImages(runId: string): Promise<ImageRecord[]> {
    const images: ImageRecord[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :img)',
          ExpressionAttributeNames: { '#pk': RunTable.partitionKey, '#sk': RunTable.sortKey },
          ExpressionAttributeValues: marshall({ ':pk': `RUN#${runId}`, ':img': 'IMG#' }),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      images.push(...(res.Items ?? []).map((item) => imageItem.parse(stripKeys(unmarshall(item)))));
      start = res.LastEvaluatedKey;
    } while (start);
    return images;
  }

  async getImage(runId: string, index: number): Promise<ImageRecord | undefined> {
    const res = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: marshall(imageKey(runId, index)), ConsistentRead: true }),
    );
    return res.Item ? imageItem.parse(stripKeys(unmarshall(res.Item))) : undefined;
  }

  async annotateImage(runId: string, index: number, fields: { digest?: string; message?: string }): Promise<void> {
    const sets = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (sets.length === 0) return;
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: marshall(imageKey(runId, index)),
        UpdateExpression: `SET ${sets.map(([k]) => `#${k} = :${k}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(sets.map(([k]) => [`#${k}`, k])),
        ExpressionAttributeValues: marshall(Object.fromEntries(sets.map(([k, v]) => [`:${k}`, v]))),
      }),
    );
  }

  async reopenImage(runId: string, index: number): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall(imageKey(runId, index)),
          UpdateExpression: 'SET #s = :pending REMOVE #st',
          ConditionExpression: '#s = :running',
          ExpressionAttributeNames: { '#s': 'status', '#st': 'startTime' },
          ExpressionAttributeValues: marshall({ ':pending': 'pending', ':running': 'in-progress' }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async startImage(runId: string, index: number): Promise<StartImageResult> {
    const run = await this.getRun(runId);
    if (!run) return { kind: 'run-not-active', status: 'cancelled' };
    if (run.status !== 'in-progress') return { kind: 'run-not-active', status: run.status };
    try {
      const res = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall(imageKey(runId, index)),
          UpdateExpression: 'SET #s = :running, #st = if_not_exists(#st, :now)',
          ConditionExpression: '#s IN (:pending, :running)',
          ExpressionAttributeNames: { '#s': 'status', '#st': 'startTime' },
          ExpressionAttributeValues: marshall({
            ':running': 'in-progress',
            ':pending': 'pending',
            ':now': this.#now().toISOString(),
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'started', run, image: imageItem.parse(stripKeys(unmarshall(res.Attributes ?? {}))) };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const image = await this.getImage(runId, index);
      if (!image) throw new Error(`run ${runId} has no image ${index}`, { cause: err });
      return { kind: 'already-final', image };
    }
  }

  async finishImage(runId: string, index: number, outcome: ImageOutcome): Promise<boolean> {
    const now = this.#now().toISOString();
    const fields: Record<string, unknown> = {
      status: outcome.status,
      endTime: now,
      message: outcome.message,
      digest: outcome.digest,
      bytes: outcome.bytes,
    };
    const sets = Object.entries(fields).filter(([, v]) => v !== undefined);
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall(imageKey(runId, index)),
          UpdateExpression: `SET ${sets.map(([k]) => `#${k} = :${k}`).join(', ')}, #startTime = if_not_exists(#startTime, :endTime)`,
          ConditionExpression: '#status IN (:pending, :running)',
          ExpressionAttributeNames: {
            ...Object.fromEntries(sets.map(([k]) => [`#${k}`, k])),
            '#status': 'status',
            '#startTime': 'startTime',
          },
          ExpressionAttributeValues: marshall({
            ...Object.fromEntries(sets.map(([k, v]) => [`:${k}`, v])),
            ':pending': 'pending',
            ':running': 'in-progress',
          }),
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: marshall(runKey(runId)),
        UpdateExpression: 'ADD imagesProcessed :one, imagesFailed :failed, bytesCopied :bytes',
        ExpressionAttributeValues: marshall({
          ':one': 1,
          ':failed': outcome.status === 'failed' ? 1 : 0,
          ':bytes': outcome.bytes ?? 0,
        }),
      }),
    );
    return true;
  }

  async setExecution(runId: string, executionId: string): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: marshall(runKey(runId)),
        UpdateExpression: 'SET executionId = :e',
        ExpressionAttributeValues: marshall({ ':e': executionId }),
      }),
    );
  }

  async cancelRun(runId: string): Promise<boolean> {
    return this.#endRun(runId, { status: 'cancelled' }, 'run cancelled');
  }

  async finishRun(
    runId: string,
    result: {
      status: 'completed' | 'failed' | 'cancelled';
      message?: string;
      imagesProcessed: number;
      imagesFailed: number;
      bytesCopied: number;
    },
  ): Promise<boolean> {
    const { status, message, ...counts } = result;
    const ended = await this.#endRun(runId, { status, ...counts }, message);
    if (!ended) {
      // A cancelled run still gets its final counts.
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall(runKey(runId)),
          UpdateExpression: 'SET imagesProcessed = :p, imagesFailed = :f, bytesCopied = :b',
          ExpressionAttributeValues: marshall({
            ':p': counts.imagesProcessed,
            ':f': counts.imagesFailed,
            ':b': counts.bytesCopied,
          }),
        }),
      );
    }
    return ended;
  }

  async acquireScheduleLock(
    schedule: string,
    runId: string,
  ): Promise<{ acquired: true } | { acquired: false; heldBy: string }> {
    const key = { [RunTable.partitionKey]: `SCHEDULE#${schedule}`, [RunTable.sortKey]: 'LOCK' };
    const current = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: marshall(key), ConsistentRead: true }),
    );
    const heldBy = current.Item ? z.object({ runId: z.string() }).parse(unmarshall(current.Item)).runId : undefined;
    if (heldBy !== undefined) {
      const holder = await this.getRun(heldBy);
      if (holder?.status === 'in-progress') return { acquired: false, heldBy };
    }
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({ ...key, runId }),
          ConditionExpression: heldBy === undefined ? 'attribute_not_exists(#pk)' : 'runId = :held',
          ExpressionAttributeNames: heldBy === undefined ? { '#pk': RunTable.partitionKey } : undefined,
          ExpressionAttributeValues: heldBy === undefined ? undefined : marshall({ ':held': heldBy }),
        }),
      );
      return { acquired: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      return { acquired: false, heldBy: heldBy ?? 'another run' };
    }
  }

  /**
   * Takes the caller's idempotency key for this run, or returns the run it already stands for.
   * WARNING: the key item is written before the run (no transactions on dynalite): a key whose
   * run is not readable yet is either being written (a retry waits a little, then answers
   * IdempotencyInProgressError) or was claimed by a request that died — only once the claim is
   * older than any request can live (`claimedAt`, renewed while writing) is it taken over.
   */
  async #claimKey(runId: string, claim: IdempotencyClaim): Promise<RunRecord | undefined> {
    const key = { [RunTable.partitionKey]: idempotencyPartition(claim), [RunTable.sortKey]: 'IDEM' };
    const mine = () => ({
      ...key,
      runId,
      caller: claim.caller,
      requestHash: claim.requestHash,
      claimedAt: this.#now().getTime(),
      [RunTable.ttlAttribute]: this.#epoch() + 86_400,
    });
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall(mine()),
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#pk': RunTable.partitionKey, '#ttl': RunTable.ttlAttribute },
          ExpressionAttributeValues: marshall({ ':now': this.#epoch() }),
        }),
      );
      return undefined;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    const looks = Math.max(1, Math.ceil(this.#waitMs / 100));
    for (let look = 1; ; look++) {
      const held = await this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: marshall(key), ConsistentRead: true }),
      );
      // Gone meanwhile (expired and deleted): nobody holds it, claim it anew.
      if (!held.Item) return this.#claimKey(runId, claim);
      const earlier = idempotencyItem.parse(unmarshall(held.Item));
      if (earlier.requestHash !== undefined && earlier.requestHash !== claim.requestHash)
        throw new IdempotencyConflictError(claim.key);
      const existing = await this.getRun(earlier.runId);
      if (existing) return existing;
      if (this.#abandoned(earlier) && (await this.#takeOver(key, earlier, mine()))) return undefined;
      if (look >= looks) throw new IdempotencyInProgressError(claim.key);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Whether the request that claimed the key is certainly over (a key from before `claimedAt` was recorded: long over). */
  #abandoned(held: HeldKey): boolean {
    return this.#now().getTime() - (held.claimedAt ?? 0) > this.#takeoverMs;
  }

  /** Replaces the abandoned claim, unless another request took it over (or its holder renewed it) meanwhile. */
  async #takeOver(key: Record<string, string>, held: HeldKey, item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall(item),
          ConditionExpression:
            held.claimedAt === undefined ? '#run = :held AND attribute_not_exists(#at)' : '#run = :held AND #at = :at',
          ExpressionAttributeNames: { '#run': 'runId', '#at': 'claimedAt' },
          ExpressionAttributeValues: marshall({
            ':held': held.runId,
            ...(held.claimedAt === undefined ? {} : { ':at': held.claimedAt }),
          }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /** Renews this request's claim on its key; when another request took the key over, that one makes the run. */
  async #renewKey(runId: string, claim: IdempotencyClaim, at: number): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall({ [RunTable.partitionKey]: idempotencyPartition(claim), [RunTable.sortKey]: 'IDEM' }),
          UpdateExpression: 'SET #at = :at',
          ConditionExpression: '#run = :mine',
          ExpressionAttributeNames: { '#at': 'claimedAt', '#run': 'runId' },
          ExpressionAttributeValues: marshall({ ':at': at, ':mine': runId }),
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new IdempotencyInProgressError(claim.key);
      throw err;
    }
  }

  async #endRun(runId: string, fields: Record<string, unknown>, message: string | undefined): Promise<boolean> {
    const all = {
      ...fields,
      endTime: this.#now().toISOString(),
      [RunTable.ttlAttribute]: this.#epoch() + this.#retentionSeconds,
      ...(message === undefined ? {} : { message }),
    };
    const entries = Object.entries(all);
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: marshall(runKey(runId)),
          UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
          ConditionExpression: '#current = :running',
          ExpressionAttributeNames: { ...Object.fromEntries(entries.map(([k]) => [`#${k}`, k])), '#current': 'status' },
          ExpressionAttributeValues: marshall({
            ...Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
            ':running': 'in-progress',
          }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async #batchPut(items: Record<string, unknown>[]): Promise<void> {
    let requests = items.map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const res = await this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: requests } }));
      requests = (res.UnprocessedItems?.[this.#table] ?? []).flatMap((r) =>
        r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
      );
      if (requests.length > 0) {
        if (attempt >= 8) throw new Error(`DynamoDB left ${requests.length} image items unwritten`);
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  #toRun(item: Record<string, AttributeValue>): RunRecord | undefined {
    const parsed = runItem.parse(stripKeys(unmarshall(item)));
    // DynamoDB deletes expired items lazily (DynamoDB Local and dynalite never): filter on read.
    if (parsed.expiresAt !== undefined && parsed.expiresAt < this.#epoch()) return undefined;
    const { expiresAt: _expires, ...run } = parsed;
    return { ...run, endTime: run.endTime ?? null };
  }

  #epoch(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }
}

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const {
    [RunTable.partitionKey]: _pk,
    [RunTable.sortKey]: _sk,
    [RunTable.listPartitionKey]: _g1,
    [RunTable.listSortKey]: _g2,
    ...rest
  } = item;
  return rest;
}

function encodeToken(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(unmarshall(key))).toString('base64url');
}

function decodeToken(token: string): Record<string, AttributeValue> {
  try {
    // Exactly the key of a run item in the listing index: anything else would reach DynamoDB as a
    // ValidationException (a 500), or page from a place no listing reaches.
    const parsed = z
      .strictObject({
        [RunTable.partitionKey]: z.string().regex(/^RUN#[A-Za-z0-9-]{1,64}$/),
        [RunTable.sortKey]: z.literal('RUN'),
        [RunTable.listPartitionKey]: z.literal('RUNS'),
        [RunTable.listSortKey]: z.string().min(1).max(200),
      })
      .parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    return marshall(parsed);
  } catch {
    throw new InvalidTokenError(
      'nextToken: not a token this API returned (pass the nextToken of the previous page unchanged)',
    );
  }
}

/** Creates the run table (local runtime and tests; the stack defines the deployed one). */
export async function createRunTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          RunTable.partitionKey,
          RunTable.sortKey,
          RunTable.listPartitionKey,
          RunTable.listSortKey,
        ].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: RunTable.partitionKey, KeyType: 'HASH' },
          { AttributeName: RunTable.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: RunTable.listIndex,
            KeySchema: [
              { AttributeName: RunTable.listPartitionKey, KeyType: 'HASH' },
              { AttributeName: RunTable.listSortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 200; i++) {
    const res = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (
      res.Table?.TableStatus === 'ACTIVE' &&
      (res.Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`table ${tableName} did not become active`);
}
