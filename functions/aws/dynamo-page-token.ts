import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { RunTable } from '../contract.js';
import { InvalidTokenError } from '../runs/errors.js';

/** The `nextToken` of a run listing: the listing index's last key, as base64url JSON. */
export function encodeToken(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(unmarshall(key))).toString('base64url');
}

/** The listing key a `nextToken` stands for; InvalidTokenError for anything this API did not issue. */
export function decodeToken(token: string): Record<string, AttributeValue> {
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
