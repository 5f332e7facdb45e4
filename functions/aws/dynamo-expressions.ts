import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What the run table's adapters share: the client, the table, the clock. */
export interface DynamoTable {
  readonly client: DynamoDBClient;
  readonly name: string;
  readonly now: () => Date;
}

/** Seconds since the epoch: the unit of the table's TTL attribute. */
export function epochSeconds(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}

/** The parts of one `SET #k = :k, …` clause: expression text, attribute names, unmarshalled values. */
export interface SetClause {
  /** `#a = :a, #b = :b` (without `SET`, so a caller can add its own terms). */
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

/**
 * The one builder of `SET` clauses: each defined field is set under its own name (`#k = :k`),
 * so any attribute name, reserved word or not, is safe; undefined fields are left as they are.
 */
export function setClause(fields: Readonly<Record<string, unknown>>): SetClause {
  const sets = Object.entries(fields).filter(([, v]) => v !== undefined);
  return {
    expression: sets.map(([k]) => `#${k} = :${k}`).join(', '),
    names: Object.fromEntries(sets.map(([k]) => [`#${k}`, k])),
    values: Object.fromEntries(sets.map(([k, v]) => [`:${k}`, v])),
  };
}

/** Runs a conditional write: true when it was made, false when its condition did not hold. */
export async function whenCondition(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}
