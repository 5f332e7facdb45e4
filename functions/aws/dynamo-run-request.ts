import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { RunTable } from '../contract.js';
import type { RequestedImage } from '../runs/store.js';
import { batchSize, putBatch } from './dynamo-batch.js';
import type { DynamoTable } from './dynamo-expressions.js';
import { runPartition } from './dynamo-run-items.js';

/** The sort keys of a run's request parts: `REQ#000`, `REQ#001`, … */
const requestSortPrefix = 'REQ#';

/**
 * The bytes of one part: DynamoDB's item limit is 400 KB (keys and names included). The API's
 * 1 MB body makes at most a few megabytes of pairs, and gzip shrinks image lists (shared
 * registries and repositories) several times: a 10,000-image request is one or two parts.
 */
const partBytes = 350_000;

const pairsSchema = z.array(z.strictObject({ source: z.string(), destination: z.string() }));
const partSchema = z.object({ part: z.instanceof(Uint8Array) });

/**
 * A run's request as stored with the run (`RUN#<id>` / `REQ#<n>`): its images as gzipped JSON,
 * cut into item-sized parts and written in one batch (a few items for any request the API
 * takes); read back by the workflow's Plan task, which writes one item per image.
 */
export class DynamoRunRequests {
  readonly #table: DynamoTable;

  constructor(table: DynamoTable) {
    this.#table = table;
  }

  async put(runId: string, images: readonly RequestedImage[], expiresAt: number): Promise<void> {
    const packed = gzipSync(JSON.stringify(images.map(({ source, destination }) => ({ source, destination }))));
    const items = [];
    for (let offset = 0, n = 0; offset < packed.length; offset += partBytes, n++)
      items.push(
        marshall({
          [RunTable.partitionKey]: runPartition(runId),
          [RunTable.sortKey]: `${requestSortPrefix}${String(n).padStart(3, '0')}`,
          part: packed.subarray(offset, offset + partBytes),
          [RunTable.ttlAttribute]: expiresAt,
        }),
      );
    for (let i = 0; i < items.length; i += batchSize)
      await putBatch(this.#table, items.slice(i, i + batchSize), 'request parts');
  }

  async get(runId: string): Promise<RequestedImage[] | undefined> {
    const parts: Uint8Array[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.#table.client.send(
        new QueryCommand({
          TableName: this.#table.name,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :req)',
          ExpressionAttributeNames: { '#pk': RunTable.partitionKey, '#sk': RunTable.sortKey },
          ExpressionAttributeValues: marshall({ ':pk': runPartition(runId), ':req': requestSortPrefix }),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      parts.push(...(res.Items ?? []).map((item) => partSchema.parse(unmarshall(item)).part));
      start = res.LastEvaluatedKey;
    } while (start);
    if (parts.length === 0) return undefined;
    return pairsSchema.parse(JSON.parse(gunzipSync(Buffer.concat(parts)).toString('utf8')));
  }
}
