import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { RunTable } from '../contract.js';
import type { PullKey } from '../oci/pull-gate.js';
import type { BudgetState, PullBudgetStore, VersionedBudget } from '../mirror/pull-budget-state.js';

export interface DynamoPullBudgetOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly now?: () => number;
}

/** How long a budget outlives its window: the next window's probe still knows the limit and its length. */
const keepAfterResetMs = 24 * 3_600_000;

const budgetItem = z.object({
  limit: z.number(),
  remaining: z.number(),
  windowMs: z.number(),
  resetAt: z.number(),
  probing: z.boolean(),
  version: z.number(),
  [RunTable.ttlAttribute]: z.number(),
});

/**
 * Pull budgets in the run table, shared by every copy-image Lambda: `PULLS#<registry>#<identity
 * hash>` / `BUDGET`, one item per upstream identity, written only with a condition on the version
 * that was read, so two Lambdas never both spend the last pull (the loser reads again). TTL'd a
 * day past its window. Holds a registry host, a hash and counts — never a user name or secret.
 */
export class DynamoPullBudgetStore implements PullBudgetStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #now: () => number;

  constructor(options: DynamoPullBudgetOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#now = options.now ?? Date.now;
  }

  async read(key: PullKey): Promise<VersionedBudget | undefined> {
    const res = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: marshall(itemKey(key)), ConsistentRead: true }),
    );
    if (!res.Item) return undefined;
    const item = budgetItem.parse(unmarshall(res.Item));
    // DynamoDB deletes expired items late (DynamoDB Local and dynalite never do): filter on read.
    if (item[RunTable.ttlAttribute] * 1000 < this.#now()) return undefined;
    const { version, limit, remaining, windowMs, resetAt, probing } = item;
    return { version, state: { limit, remaining, windowMs, resetAt, probing } };
  }

  async write(key: PullKey, state: BudgetState, version: number | undefined): Promise<boolean> {
    const now = this.#now();
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: marshall({
            ...itemKey(key),
            ...state,
            version: (version ?? 0) + 1,
            [RunTable.ttlAttribute]: Math.ceil((state.resetAt + keepAfterResetMs) / 1000),
          }),
          // Absent (or expired, which reads as absent) when the writer read nothing; else the version it read.
          ConditionExpression:
            version === undefined ? 'attribute_not_exists(#pk) OR #ttl < :now' : '#version = :version',
          ExpressionAttributeNames:
            version === undefined
              ? { '#pk': RunTable.partitionKey, '#ttl': RunTable.ttlAttribute }
              : { '#version': 'version' },
          ExpressionAttributeValues: marshall(
            version === undefined ? { ':now': Math.floor(now / 1000) } : { ':version': version },
          ),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

function itemKey(key: PullKey): Record<string, string> {
  return {
    [RunTable.partitionKey]: `PULLS#${key.registry}#${key.identity}`,
    [RunTable.sortKey]: 'BUDGET',
  };
}
