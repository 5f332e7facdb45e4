import {
  type AttributeValue,
  BatchWriteItemCommand,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ImageRecord } from '../runs/model.js';
import type { ImageOutcome } from '../runs/store.js';
import { type DynamoTable, setClause, whenCondition } from './dynamo-expressions.js';
import { imageKey, imageSortPrefix, runPartition, toImage } from './dynamo-run-items.js';
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

  /** Writes up to 25 images in one batch, retrying what DynamoDB leaves unprocessed. */
  async putBatch(images: readonly ImageRecord[]): Promise<void> {
    const table = this.#table.name;
    let requests = images.map((image) => ({
      PutRequest: {
        Item: marshall({ ...imageKey(image.runId, image.index), ...image }, { removeUndefinedValues: true }),
      },
    }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const res = await this.#table.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
      requests = (res.UnprocessedItems?.[table] ?? []).flatMap((r) =>
        r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
      );
      if (requests.length > 0) {
        if (attempt >= 8) throw new Error(`DynamoDB left ${requests.length} image items unwritten`);
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  async list(runId: string): Promise<ImageRecord[]> {
    const images: ImageRecord[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.#table.client.send(
        new QueryCommand({
          TableName: this.#table.name,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :img)',
          ExpressionAttributeNames: { '#pk': RunTable.partitionKey, '#sk': RunTable.sortKey },
          ExpressionAttributeValues: marshall({ ':pk': runPartition(runId), ':img': imageSortPrefix }),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      images.push(...(res.Items ?? []).map(toImage));
      start = res.LastEvaluatedKey;
    } while (start);
    return images;
  }

  async get(runId: string, index: number): Promise<ImageRecord | undefined> {
    const res = await this.#table.client.send(
      new GetItemCommand({ TableName: this.#table.name, Key: marshall(imageKey(runId, index)), ConsistentRead: true }),
    );
    return res.Item ? toImage(res.Item) : undefined;
  }

  async annotate(runId: string, index: number, fields: { digest?: string; message?: string }): Promise<void> {
    const set = setClause(fields);
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
          UpdateExpression: 'SET #s = :pending REMOVE #st',
          ConditionExpression: '#s = :running',
          ExpressionAttributeNames: { '#s': 'status', '#st': 'startTime' },
          ExpressionAttributeValues: marshall({ ':pending': 'pending', ':running': 'in-progress' }),
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
          UpdateExpression: 'SET #s = :running, #st = if_not_exists(#st, :now)',
          ConditionExpression: '#s IN (:pending, :running)',
          ExpressionAttributeNames: { '#s': 'status', '#st': 'startTime' },
          ExpressionAttributeValues: marshall({
            ':running': 'in-progress',
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
      endTime: this.#table.now().toISOString(),
      message: outcome.message,
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
