import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { RunTable } from '../contract.js';
import { InvalidTokenError } from '../runs/errors.js';

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
