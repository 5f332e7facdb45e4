import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { RunTable } from '../contract.js';
import type { DynamoTable } from './dynamo-expressions.js';
import { imageKey } from './dynamo-run-items.js';

/**
 * Adds one to an image's `invocations` (the copy task started once more) and returns the new
 * count. An atomic ADD, so concurrent or retried invocations each count; conditional on the image
 * item existing, so a run that expired is not re-created as a stray counter.
 */
export async function countImageInvocation(table: DynamoTable, runId: string, index: number): Promise<number> {
  const res = await table.client.send(
    new UpdateItemCommand({
      TableName: table.name,
      Key: marshall(imageKey(runId, index)),
      UpdateExpression: 'ADD #n :one',
      ConditionExpression: 'attribute_exists(#pk)',
      ExpressionAttributeNames: { '#n': 'invocations', '#pk': RunTable.partitionKey },
      ExpressionAttributeValues: marshall({ ':one': 1 }),
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return z.object({ invocations: z.number() }).parse(unmarshall(res.Attributes ?? {})).invocations;
}
