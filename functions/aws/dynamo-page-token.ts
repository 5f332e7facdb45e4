import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { RunTable } from '../contract.js';
import { InvalidTokenError } from '../runs/errors.js';
import type { DynamoTable } from './dynamo-expressions.js';

/** The listings a token may belong to: the listing partition and the key shape of its items. */
const listings = {
  runs: { partition: /^RUN#[A-Za-z0-9-]{1,64}$/, sort: 'RUN', list: 'RUNS' },
  imageSets: { partition: /^SET#[a-z0-9-]{1,63}$/, sort: 'SET', list: 'SETS' },
} as const;
export type Listing = keyof typeof listings;

/** The `nextToken` of a listing (runs, image sets): the listing index's last key, as base64url JSON. */
export function encodeToken(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(unmarshall(key))).toString('base64url');
}

/** The listing key a `nextToken` stands for; InvalidTokenError for anything this API did not issue for `listing`. */
export function decodeToken(token: string, listing: Listing = 'runs'): Record<string, AttributeValue> {
  const shape = listings[listing];
  try {
    // Exactly the key of an item of that listing in the index: anything else would reach DynamoDB
    // as a ValidationException (a 500), or page from a place no listing reaches.
    const parsed = z
      .strictObject({
        [RunTable.partitionKey]: z.string().regex(shape.partition),
        [RunTable.sortKey]: z.literal(shape.sort),
        [RunTable.listPartitionKey]: z.literal(shape.list),
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

/** One page of a listing: the raw items and the token of the next page. */
export interface ListingPage {
  readonly items: Record<string, AttributeValue>[];
  readonly nextToken?: string;
}

/**
 * Reads one page of a listing (runs, image sets) from the listing index — the one query both
 * listings share; `nextToken` must be one this listing issued.
 */
export async function queryListing(
  table: Pick<DynamoTable, 'client' | 'name'>,
  listing: Listing,
  limit: number,
  nextToken: string | undefined,
  options: { newestFirst?: boolean } = {},
): Promise<ListingPage> {
  const res = await table.client.send(
    new QueryCommand({
      TableName: table.name,
      IndexName: RunTable.listIndex,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': RunTable.listPartitionKey },
      ExpressionAttributeValues: marshall({ ':p': listings[listing].list }),
      ...(options.newestFirst ? { ScanIndexForward: false } : {}),
      Limit: limit,
      ...(nextToken === undefined ? {} : { ExclusiveStartKey: decodeToken(nextToken, listing) }),
    }),
  );
  return { items: res.Items ?? [], ...(res.LastEvaluatedKey ? { nextToken: encodeToken(res.LastEvaluatedKey) } : {}) };
}
