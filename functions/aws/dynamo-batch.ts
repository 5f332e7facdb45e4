import { type AttributeValue, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoTable } from './dynamo-expressions.js';

/** BatchWriteItem's limit: 25 requests per call. */
export const batchSize = 25;

/**
 * Puts up to {@link batchSize} items in one BatchWriteItem, retrying with backoff what DynamoDB
 * leaves unprocessed (throttling, a partition's limit) until every item is written.
 */
export async function putBatch(
  table: Pick<DynamoTable, 'client' | 'name'>,
  items: readonly Record<string, AttributeValue>[],
  what: string,
): Promise<void> {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    const res = await table.client.send(new BatchWriteItemCommand({ RequestItems: { [table.name]: requests } }));
    requests = (res.UnprocessedItems?.[table.name] ?? []).flatMap((r) =>
      r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
    );
    if (requests.length > 0) {
      if (attempt >= 8) throw new Error(`DynamoDB left ${requests.length} ${what} unwritten`);
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}
