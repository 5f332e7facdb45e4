import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RunRecord } from '../runs/model.js';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../runs/errors.js';
import type { IdempotencyClaim } from '../runs/store.js';
import { type DynamoTable, epochSeconds, whenCondition } from './dynamo-expressions.js';
import { RunTable } from '../contract.js';

const idempotencyItem = z.object({
  runId: z.string(),
  requestHash: z.string().optional(),
  claimedAt: z.number().optional(),
  expiresAt: z.number().optional(),
});
type HeldKey = z.infer<typeof idempotencyItem>;

/** One caller's key: the caller is hashed (an ARN may be long), so keys of two callers never meet. */
const keyOf = (claim: IdempotencyClaim) => ({
  [RunTable.partitionKey]: `IDEM#${createHash('sha256').update(claim.caller).digest('hex').slice(0, 32)}#${claim.key}`,
  [RunTable.sortKey]: 'IDEM',
});

export interface DynamoIdempotencyOptions {
  /** How long after its claim a key whose run was never written may be taken over. */
  readonly takeoverMs: number;
  /** How long a retry waits for the run of a request still writing it. */
  readonly waitMs: number;
  /** Reads a run (the key only names it). */
  readonly getRun: (runId: string) => Promise<RunRecord | undefined>;
}

/**
 * Idempotency-Keys (`IDEM#<caller hash>#<key>` / `IDEM`): which run a caller's key stands for,
 * bound to the request's hash, taken over only once its request is certainly over.
 */
export class DynamoIdempotency {
  readonly #table: DynamoTable;
  readonly #options: DynamoIdempotencyOptions;

  constructor(table: DynamoTable, options: DynamoIdempotencyOptions) {
    this.#table = table;
    this.#options = options;
  }

  /** See RunStore.findByIdempotencyKey. */
  async find(claim: IdempotencyClaim): Promise<RunRecord | undefined> {
    const item = await this.#held(claim);
    if (!item) return undefined;
    if (item.expiresAt !== undefined && item.expiresAt < this.#epoch()) return undefined;
    if (item.requestHash !== undefined && item.requestHash !== claim.requestHash)
      throw new IdempotencyConflictError(claim.key);
    const run = await this.#options.getRun(item.runId);
    // Its request is still writing the run: nothing is prepared for a second one.
    if (!run && !this.#abandoned(item)) throw new IdempotencyInProgressError(claim.key);
    return run;
  }

  /**
   * Takes the caller's idempotency key for this run, or returns the run it already stands for.
   * WARNING: the key item is written before the run (no transactions on dynalite): a key whose
   * run is not readable yet is either being written (a retry waits a little, then answers
   * IdempotencyInProgressError) or was claimed by a request that died — only once the claim is
   * older than any request can live (`claimedAt`, renewed while writing) is it taken over.
   */
  async claim(runId: string, claim: IdempotencyClaim): Promise<RunRecord | undefined> {
    const key = keyOf(claim);
    const mine = () => ({
      ...key,
      runId,
      caller: claim.caller,
      requestHash: claim.requestHash,
      claimedAt: this.#table.now().getTime(),
      [RunTable.ttlAttribute]: this.#epoch() + 86_400,
    });
    const claimed = await whenCondition(() =>
      this.#table.client.send(
        new PutItemCommand({
          TableName: this.#table.name,
          Item: marshall(mine()),
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#pk': RunTable.partitionKey, '#ttl': RunTable.ttlAttribute },
          ExpressionAttributeValues: marshall({ ':now': this.#epoch() }),
        }),
      ),
    );
    if (claimed) return undefined;
    const looks = Math.max(1, Math.ceil(this.#options.waitMs / 100));
    for (let look = 1; ; look++) {
      const earlier = await this.#held(claim);
      // Gone meanwhile (expired and deleted): nobody holds it, claim it anew.
      if (!earlier) return this.claim(runId, claim);
      if (earlier.requestHash !== undefined && earlier.requestHash !== claim.requestHash)
        throw new IdempotencyConflictError(claim.key);
      const existing = await this.#options.getRun(earlier.runId);
      if (existing) return existing;
      if (this.#abandoned(earlier) && (await this.#takeOver(key, earlier, mine()))) return undefined;
      if (look >= looks) throw new IdempotencyInProgressError(claim.key);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Renews this request's claim on its key; when another request took the key over, that one makes the run. */
  async renew(runId: string, claim: IdempotencyClaim, at: number): Promise<void> {
    try {
      await this.#table.client.send(
        new UpdateItemCommand({
          TableName: this.#table.name,
          Key: marshall(keyOf(claim)),
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

  async #held(claim: IdempotencyClaim): Promise<HeldKey | undefined> {
    const res = await this.#table.client.send(
      new GetItemCommand({ TableName: this.#table.name, Key: marshall(keyOf(claim)), ConsistentRead: true }),
    );
    return res.Item ? idempotencyItem.parse(unmarshall(res.Item)) : undefined;
  }

  /** Whether the request that claimed the key is certainly over (a key from before `claimedAt` was recorded: long over). */
  #abandoned(held: HeldKey): boolean {
    return this.#table.now().getTime() - (held.claimedAt ?? 0) > this.#options.takeoverMs;
  }

  /** Replaces the abandoned claim, unless another request took it over (or its holder renewed it) meanwhile. */
  #takeOver(key: Record<string, string>, held: HeldKey, item: Record<string, unknown>): Promise<boolean> {
    return whenCondition(() =>
      this.#table.client.send(
        new PutItemCommand({
          TableName: this.#table.name,
          Item: marshall(item),
          ConditionExpression:
            held.claimedAt === undefined ? '#run = :held AND attribute_not_exists(#at)' : '#run = :held AND #at = :at',
          ExpressionAttributeNames: { '#run': 'runId', '#at': 'claimedAt' },
          ExpressionAttributeValues: marshall({
            ':held': held.runId,
            ...(held.claimedAt === undefined ? {} : { ':at': held.claimedAt }),
          }),
        }),
      ),
    );
  }

  #epoch(): number {
    return epochSeconds(this.#table.now());
  }
}
