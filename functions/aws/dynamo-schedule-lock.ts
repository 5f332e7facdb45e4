import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import type { RunRecord } from '../runs/model.js';
import { type DynamoTable, whenCondition } from './dynamo-expressions.js';
import { RunTable } from '../contract.js';

/**
 * The lock of a schedule (`SCHEDULE#<name>` / `LOCK`): the run that holds it. Taken over only
 * from a run that is no longer in progress, by a write conditional on that holder.
 */
export async function acquireScheduleLock(
  table: DynamoTable,
  getRun: (runId: string) => Promise<RunRecord | undefined>,
  schedule: string,
  runId: string,
): Promise<{ acquired: true } | { acquired: false; heldBy: string }> {
  const key = { [RunTable.partitionKey]: `SCHEDULE#${schedule}`, [RunTable.sortKey]: 'LOCK' };
  const current = await table.client.send(
    new GetItemCommand({ TableName: table.name, Key: marshall(key), ConsistentRead: true }),
  );
  const heldBy = current.Item ? z.object({ runId: z.string() }).parse(unmarshall(current.Item)).runId : undefined;
  if (heldBy !== undefined) {
    const holder = await getRun(heldBy);
    if (holder?.status === 'in-progress') return { acquired: false, heldBy };
  }
  const acquired = await whenCondition(() =>
    table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: marshall({ ...key, runId }),
        ConditionExpression: heldBy === undefined ? 'attribute_not_exists(#pk)' : 'runId = :held',
        ExpressionAttributeNames: heldBy === undefined ? { '#pk': RunTable.partitionKey } : undefined,
        ExpressionAttributeValues: heldBy === undefined ? undefined : marshall({ ':held': heldBy }),
      }),
    ),
  );
  return acquired ? { acquired: true } : { acquired: false, heldBy: heldBy ?? 'another run' };
}
