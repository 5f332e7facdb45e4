import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import type { BlobIndex } from '../mirror/blob-index.js';
import { RunTable } from './table.js';

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

/**
 * The blob index shared by every copy-image Lambda, in the run table: `BLOB#<registry>#<digest>`
 * / `REPO#<repository>`, one item per place a blob was copied, mounted or found. A Lambda copying
 * an image whose base layer another Lambda already put into a sibling repository mounts it
 * instead of streaming it again. Holds registry hosts, digests and repository names only.
 */
export class DynamoBlobIndex implements BlobIndex {
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
    const res = await this.#client.send(new QueryCommand({
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': RunTable.partitionKey },
      ExpressionAttributeValues: marshall({ ':pk': blobPartition(registry, digest) }),
      Limit: maxLocations * 2,
    }));
    const now = this.#epoch();
    // Expired items linger until DynamoDB deletes them (DynamoDB Local and dynalite never do): filter on read.
    return (res.Items ?? [])
      .map((item) => locationItem.parse(unmarshall(item)))
      .filter((item) => item[RunTable.ttlAttribute] >= now)
      .slice(0, maxLocations)
      .map((item) => item.repository);
  }

  async record(registry: string, digest: string, repository: string): Promise<void> {
    await this.#client.send(new PutItemCommand({
      TableName: this.#table,
      Item: marshall({
        [RunTable.partitionKey]: blobPartition(registry, digest), [RunTable.sortKey]: `REPO#${repository}`,
        repository, [RunTable.ttlAttribute]: this.#epoch() + this.#retentionSeconds,
      }),
    }));
  }

  #epoch(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }
}

const blobPartition = (registry: string, digest: string) => `BLOB#${registry}#${digest}`;
