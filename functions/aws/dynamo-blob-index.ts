import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import type { BlobClaim, BlobIndex, BlobLeases } from '../mirror/blob-index.js';
import { RunTable } from '../contract.js';

export interface DynamoBlobIndexOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long a location is trusted after it was last recorded (TTL); a stale one only costs a failed mount. */
  readonly retentionDays?: number;
  readonly now?: () => Date;
}

/** Mount candidates a copy looks at; more would only be failed mounts in a row. */
const maxLocations = 8;
const locationItem = z.object({ repository: z.string(), [RunTable.ttlAttribute]: z.number() });
const leaseItem = z.object({ holder: z.string(), leaseUntil: z.number() });

/**
 * The blob index shared by every copy-image Lambda, in the run table: `BLOB#<registry>#<digest>`
 * / `REPO#<repository>`, one item per place a blob was copied, mounted or found. A Lambda copying
 * an image whose base layer another Lambda already put into a sibling repository mounts it
 * instead of streaming it again. `BLOB#…` / `LEASE` is the claim on a transfer under way, so
 * Lambdas that start together stream a shared layer once. Holds registry hosts, digests,
 * repository names and holder ids only.
 */
export class DynamoBlobIndex implements BlobIndex, BlobLeases {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #retentionSeconds: number;
  readonly #now: () => Date;

  constructor(options: DynamoBlobIndexOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#retentionSeconds = Math.round((options.retentionDays ?? 30) * 86_400);
    this.#now = options.now ?? (() => new Date());
  }

  async locations(registry: string, digest: string): Promise<readonly string[]> {
    const res = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :repo)',
        ExpressionAttributeNames: { '#pk': RunTable.partitionKey, '#sk': RunTable.sortKey },
        ExpressionAttributeValues: marshall({ ':pk': blobPartition(registry, digest), ':repo': 'REPO#' }),
        ConsistentRead: true,
        Limit: maxLocations * 2,
      }),
    );
    const now = this.#epoch();
    // Expired items linger until DynamoDB deletes them (DynamoDB Local and dynalite never do): filter on read.
    return (res.Items ?? [])
      .map((item) => locationItem.parse(unmarshall(item)))
      .filter((item) => item[RunTable.ttlAttribute] >= now)
      .slice(0, maxLocations)
      .map((item) => item.repository);
  }

  async record(registry: string, digest: string, repository: string): Promise<void> {
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: marshall({
          [RunTable.partitionKey]: blobPartition(registry, digest),
          [RunTable.sortKey]: `REPO#${repository}`,
          repository,
          [RunTable.ttlAttribute]: this.#epoch() + this.#retentionSeconds,
        }),
      }),
    );
  }

  async forget(registry: string, digest: string, repository: string): Promise<void> {
    await this.#client.send(
      new DeleteItemCommand({
        TableName: this.#table,
        Key: marshall({
          [RunTable.partitionKey]: blobPartition(registry, digest),
          [RunTable.sortKey]: `REPO#${repository}`,
        }),
      }),
    );
  }

  async claim(registry: string, digest: string, holder: string, leaseMs: number): Promise<BlobClaim> {
    const now = this.#now().getTime();
    const key = { [RunTable.partitionKey]: blobPartition(registry, digest), [RunTable.sortKey]: 'LEASE' };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({
            ...key,
            holder,
            leaseUntil: now + leaseMs,
            [RunTable.ttlAttribute]: this.#epoch() + 86_400,
          }),
          ConditionExpression: 'attribute_not_exists(#pk) OR leaseUntil < :now OR holder = :holder',
          ExpressionAttributeNames: { '#pk': RunTable.partitionKey },
          ExpressionAttributeValues: marshall({ ':now': now, ':holder': holder }),
        }),
      );
      return { granted: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const held = await this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: marshall(key), ConsistentRead: true }),
      );
      // Released between the two calls: the caller may claim again right away.
      return { granted: false, until: held.Item ? leaseItem.parse(unmarshall(held.Item)).leaseUntil : now };
    }
  }

  async release(registry: string, digest: string, holder: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: marshall({ [RunTable.partitionKey]: blobPartition(registry, digest), [RunTable.sortKey]: 'LEASE' }),
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: marshall({ ':holder': holder }),
        }),
      );
    } catch (err) {
      // Taken over after the lease lapsed: it is the new holder's to release.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  #epoch(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }
}

const blobPartition = (registry: string, digest: string) => `BLOB#${registry}#${digest}`;
