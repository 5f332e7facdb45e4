import { type AttributeValue, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ImageRecord } from '../runs/model.js';
import { capImageMessage } from '../runs/limits.js';
import type { ImageOutcome, ImageQuery, ImageSlice } from '../runs/store.js';
import { putBatch } from './dynamo-batch.js';
import { type DynamoTable, setClause, whenCondition } from './dynamo-expressions.js';
import {
  imageKey,
  imageSortKey,
  imageStatusAttribute,
  imageStatusKey,
  imageItem,
  runPartition,
  toImage,
} from './dynamo-run-items.js';
import { RunTable } from '../contract.js';

/**
 * The image items of runs (`RUN#<id>` / `IMG#<n>`): one per image, so a run of any size stays far
 * below the 400 KB item limit. Status changes are conditional: an image never leaves a final status.
 */
export class DynamoImages {
  readonly #table: DynamoTable;

  constructor(table: DynamoTable) {
    this.#table = table;
  }

  /** Writes up to 25 images in one batch (retrying what DynamoDB leaves unprocessed), each expiring at `expiresAt`. */
  putBatch(images: readonly ImageRecord[], expiresAt: number): Promise<void> {
    const items = images.map((image) => marshall(imageItem(image, expiresAt), { removeUndefinedValues: true }));
    return putBatch(this.#table, items, 'image items');
  }

  /**
   * Images of a run in index order after `after`, of one status or all: a status reads the
   * sparse status index (only that status's items), all of them the run's partition. A table
   * made before the index existed (an older `ferry serve --data-dir`) is read with a filter.
   */
  async page(runId: string, query: Partial<ImageQuery>): Promise<ImageSlice> {
    if (query.status === undefined || this.#noStatusIndex) return this.#query(runId, query, 'partition');
    try {
      return await this.#query(runId, query, 'index');
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ValidationException' && /index/i.test(err.message))) throw err;
      this.#noStatusIndex = true;
      return this.#query(runId, query, 'partition');
    }
  }

  /** Set once the table turned out to have no status index. */
  #noStatusIndex = false;

  async #query(runId: string, query: Partial<ImageQuery>, via: 'index' | 'partition'): Promise<ImageSlice> {
    const { status, limit = Number.POSITIVE_INFINITY } = query;
    const index = via === 'index' && status !== undefined;
    const filter = !index && status !== undefined;
    const images: ImageRecord[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.#table.client.send(
        new QueryCommand({
          TableName: this.#table.name,
          ...(index ? { IndexName: RunTable.statusIndex } : {}),
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ...(filter ? { FilterExpression: '#status = :status' } : {}),
          ExpressionAttributeNames: {
            '#pk': index ? RunTable.statusPartitionKey : RunTable.partitionKey,
            '#sk': RunTable.sortKey,
            ...(filter ? { '#status': 'status' } : {}),
          },
          ExpressionAttributeValues: marshall({
            ':pk': index ? imageStatusKey(runId, status) : runPartition(runId),
            ':from': imageSortKey(query.after === undefined ? 0 : query.after + 1),
            ':to': imageSortKey(9_999_999),
            ...(filter ? { ':status': status } : {}),
          }),
          // An index cannot be read consistently; the run's partition is.
          ...(index ? {} : { ConsistentRead: true }),
          ...(Number.isFinite(limit) ? { Limit: limit - images.length } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      images.push(...(res.Items ?? []).map(toImage));
      start = res.LastEvaluatedKey;
    } while (start && images.length < limit);
    return { items: images, more: start !== undefined };
  }

  /** Every image of a run, in index order. */
  async list(runId: string): Promise<ImageRecord[]> {
    return (await this.page(runId, {})).items;
  }

  async get(runId: string, index: number): Promise<ImageRecord | undefined> {
    const res = await this.#table.client.send(
      new GetItemCommand({ TableName: this.#table.name, Key: marshall(imageKey(runId, index)), ConsistentRead: true }),
    );
    return res.Item ? toImage(res.Item) : undefined;
  }

  async annotate(runId: string, index: number, fields: { digest?: string; message?: string }): Promise<void> {
    const set = setClause({ ...fields, message: capImageMessage(fields.message) });
    if (set.expression === '') return;
    await this.#table.client.send(
      new UpdateItemCommand({
        TableName: this.#table.name,
        Key: marshall(imageKey(runId, index)),
        UpdateExpression: `SET ${set.expression}`,
        ExpressionAttributeNames: set.names,
        ExpressionAttributeValues: marshall(set.values),
      }),
    );
  }

  /** in-progress → pending; false when it was not in progress. */
  reopen(runId: string, index: number): Promise<boolean> {
    return whenCondition(() =>
      this.#table.client.send(
        new UpdateItemCommand({
          TableName: this.#table.name,
          Key: marshall(imageKey(runId, index)),
          UpdateExpression: 'SET #s = :pending, #g = :g REMOVE #st',
          ConditionExpression: '#s = :running',
          ExpressionAttributeNames: { '#s': 'status', '#st': 'startTime', '#g': RunTable.statusPartitionKey },
          ExpressionAttributeValues: marshall({
            ':pending': 'pending',
            ':running': 'in-progress',
            ':g': imageStatusKey(runId, 'pending'),
          }),
        }),
      ),
    );
  }

  /** pending|in-progress → in-progress (start time kept from a first attempt); undefined when the image is final. */
  async start(runId: string, index: number): Promise<ImageRecord | undefined> {
    let attributes: Record<string, AttributeValue> | undefined;
    const started = await whenCondition(async () => {
      const res = await this.#table.client.send(
        new UpdateItemCommand({
          TableName: this.#table.name,
          Key: marshall(imageKey(runId, index)),
          UpdateExpression: 'SET #s = :running, #g = :g, #st = if_not_exists(#st, :now)',
          ConditionExpression: '#s IN (:pending, :running)',
          ExpressionAttributeNames: { '#s': 'status', '#st': 'startTime', '#g': RunTable.statusPartitionKey },
          ExpressionAttributeValues: marshall({
            ':running': 'in-progress',
            ':g': imageStatusKey(runId, 'in-progress'),
            ':pending': 'pending',
            ':now': this.#table.now().toISOString(),
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      attributes = res.Attributes;
    });
    return started ? toImage(attributes ?? {}) : undefined;
  }

  /** pending|in-progress → the outcome's final status; false when the image was already final. */
  finish(runId: string, index: number, outcome: ImageOutcome): Promise<boolean> {
    const set = setClause({
      status: outcome.status,
      ...imageStatusAttribute(runId, outcome.status),
      endTime: this.#table.now().toISOString(),
      message: capImageMessage(outcome.message),
      digest: outcome.digest,
      bytes: outcome.bytes,
      dryRun: outcome.dryRun,
      prune: outcome.prune,
      signatures: outcome.signatures,
    });
    return whenCondition(() =>
      this.#table.client.send(
        new UpdateItemCommand({
          TableName: this.#table.name,
          Key: marshall(imageKey(runId, index)),
          UpdateExpression: `SET ${set.expression}, #startTime = if_not_exists(#startTime, :endTime)`,
          ConditionExpression: '#status IN (:pending, :running)',
          ExpressionAttributeNames: { ...set.names, '#startTime': 'startTime' },
          ExpressionAttributeValues: marshall({ ...set.values, ':pending': 'pending', ':running': 'in-progress' }),
        }),
      ),
    );
  }
}
