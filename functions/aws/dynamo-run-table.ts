import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { RunTable } from '../contract.js';

/** Creates the run table (local runtime and tests; the stack defines the deployed one). */
export async function createRunTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          RunTable.partitionKey,
          RunTable.sortKey,
          RunTable.listPartitionKey,
          RunTable.listSortKey,
          RunTable.statusPartitionKey,
        ].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: RunTable.partitionKey, KeyType: 'HASH' },
          { AttributeName: RunTable.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: RunTable.listIndex,
            KeySchema: [
              { AttributeName: RunTable.listPartitionKey, KeyType: 'HASH' },
              { AttributeName: RunTable.listSortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: RunTable.statusIndex,
            KeySchema: [
              { AttributeName: RunTable.statusPartitionKey, KeyType: 'HASH' },
              { AttributeName: RunTable.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 200; i++) {
    const res = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (
      res.Table?.TableStatus === 'ACTIVE' &&
      (res.Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`table ${tableName} did not become active`);
}
