import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import type { RunRecord } from '../runs/model.js';
import type { Page, RunStore } from '../runs/store.js';
import { type DynamoTable, epochSeconds, setClause, whenCondition } from './dynamo-expressions.js';
import { queryListing } from './dynamo-page-token.js';
import { runDocumentKey, runKey, toRun } from './dynamo-run-items.js';
import { RunTable } from '../contract.js';

type RunResult = Parameters<RunStore['finishRun']>[1];

/**
 * The run items (`RUN#<id>` / `RUN`): written once, read consistently, listed newest first
 * through the start-time index, ended by one conditional write (in-progress → final), kept
 * `retentionSeconds` after they end (TTL).
 */
export class DynamoRuns {
  readonly #table: DynamoTable;
  readonly #retentionSeconds: number;

  constructor(table: DynamoTable, retentionSeconds: number) {
    this.#table = table;
    this.#retentionSeconds = retentionSeconds;
  }

  /**
   * Writes the run item, unless one with its id exists, expiring at `expiresAt` (the run-scoped
   * horizon: a run that never ends still goes; ending sets its retention).
   */
  async put(run: RunRecord, expiresAt: number): Promise<void> {
    await this.#table.client.send(
      new PutItemCommand({
        TableName: this.#table.name,
        Item: marshall(
          {
            ...runKey(run.runId),
            ...run,
            [RunTable.listPartitionKey]: 'RUNS',
            [RunTable.listSortKey]: `${run.startTime}#${run.runId}`,
            [RunTable.ttlAttribute]: expiresAt,
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': RunTable.partitionKey },
      }),
    );
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const res = await this.#table.client.send(
      new GetItemCommand({ TableName: this.#table.name, Key: marshall(runKey(runId)), ConsistentRead: true }),
    );
    return res.Item ? toRun(res.Item, this.#epoch()) : undefined;
  }

  async list(limit: number, nextToken?: string): Promise<Page<RunRecord>> {
    const page = await queryListing(this.#table, 'runs', limit, nextToken, { newestFirst: true });
    const now = this.#epoch();
    const items = page.items.map((item) => toRun(item, now)).filter((r): r is RunRecord => r !== undefined);
    return { items, ...(page.nextToken === undefined ? {} : { nextToken: page.nextToken }) };
  }

  /**
   * Writes the run's image-set document (`RUN#<id>` / `SET`) as JSON text: any document fits
   * (the parser caps it at 256 KB), empty strings and all.
   */
  async putDocument(runId: string, document: unknown, expiresAt: number): Promise<void> {
    await this.#table.client.send(
      new PutItemCommand({
        TableName: this.#table.name,
        Item: marshall({
          ...runDocumentKey(runId),
          document: JSON.stringify(document),
          [RunTable.ttlAttribute]: expiresAt,
        }),
      }),
    );
  }

  async getDocument(runId: string): Promise<unknown> {
    const res = await this.#table.client.send(
      new GetItemCommand({ TableName: this.#table.name, Key: marshall(runDocumentKey(runId)), ConsistentRead: true }),
    );
    const text = res.Item ? z.object({ document: z.string() }).parse(unmarshall(res.Item)).document : undefined;
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  /** Sets fields of the run item unconditionally (execution id, counters). */
  async set(runId: string, fields: Readonly<Record<string, unknown>>): Promise<void> {
    const set = setClause(fields);
    await this.#table.client.send(
      new UpdateItemCommand({
        TableName: this.#table.name,
        Key: marshall(runKey(runId)),
        UpdateExpression: `SET ${set.expression}`,
        ExpressionAttributeNames: set.names,
        ExpressionAttributeValues: marshall(set.values),
      }),
    );
  }

  /** Adds a finished image to the run's counters. */
  async count(runId: string, failed: boolean, bytes: number): Promise<void> {
    await this.#table.client.send(
      new UpdateItemCommand({
        TableName: this.#table.name,
        Key: marshall(runKey(runId)),
        UpdateExpression: 'ADD imagesProcessed :one, imagesFailed :failed, bytesCopied :bytes',
        ExpressionAttributeValues: marshall({ ':one': 1, ':failed': failed ? 1 : 0, ':bytes': bytes }),
      }),
    );
  }

  cancel(runId: string): Promise<boolean> {
    return this.#end(runId, { status: 'cancelled' }, 'run cancelled');
  }

  async finish(runId: string, result: RunResult): Promise<boolean> {
    const { status, message, ...counts } = result;
    const ended = await this.#end(runId, { status, ...counts }, message);
    // A cancelled run still gets its final counts.
    if (!ended) await this.set(runId, counts);
    return ended;
  }

  /** in-progress → a final status, with its end time and expiry; false when the run had already ended. */
  #end(runId: string, fields: Readonly<Record<string, unknown>>, message: string | undefined): Promise<boolean> {
    const set = setClause({
      ...fields,
      endTime: this.#table.now().toISOString(),
      [RunTable.ttlAttribute]: this.#epoch() + this.#retentionSeconds,
      message,
    });
    return whenCondition(() =>
      this.#table.client.send(
        new UpdateItemCommand({
          TableName: this.#table.name,
          Key: marshall(runKey(runId)),
          UpdateExpression: `SET ${set.expression}`,
          ConditionExpression: '#current = :running',
          ExpressionAttributeNames: { ...set.names, '#current': 'status' },
          ExpressionAttributeValues: marshall({ ...set.values, ':running': 'in-progress' }),
        }),
      ),
    );
  }

  #epoch(): number {
    return epochSeconds(this.#table.now());
  }
}
