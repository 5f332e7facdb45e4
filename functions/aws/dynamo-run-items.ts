import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { imageRecordSchema, type ImageRecord, runRecordSchema, type RunRecord } from '../runs/model.js';
import { RunTable } from '../contract.js';

/**
 * A run item as stored: the run record (runs/model.ts, the one schema), with the TTL attribute,
 * and `endTime` absent on items written before it was always set.
 */
const runItem = runRecordSchema.unwrap().extend({
  endTime: z.string().nullable().optional(),
  [RunTable.ttlAttribute]: z.number().optional(),
});

export const runKey = (runId: string) => ({ [RunTable.partitionKey]: `RUN#${runId}`, [RunTable.sortKey]: 'RUN' });
/** The image-set document of a run of a set. */
export const runDocumentKey = (runId: string) => ({
  [RunTable.partitionKey]: `RUN#${runId}`,
  [RunTable.sortKey]: 'SET',
});
export const imageKey = (runId: string, index: number) => ({
  [RunTable.partitionKey]: `RUN#${runId}`,
  [RunTable.sortKey]: `IMG#${String(index).padStart(7, '0')}`,
});
/** The partition of a run's items; its images sort under this prefix. */
export const runPartition = (runId: string) => `RUN#${runId}`;
export const imageSortPrefix = 'IMG#';

/** A run item as the record, or undefined when it expired (DynamoDB deletes expired items lazily; DynamoDB Local and dynalite never). */
export function toRun(item: Record<string, AttributeValue>, nowSeconds: number): RunRecord | undefined {
  const parsed = runItem.parse(stripKeys(unmarshall(item)));
  const { [RunTable.ttlAttribute]: expiresAt, ...run } = parsed;
  if (expiresAt !== undefined && expiresAt < nowSeconds) return undefined;
  return { ...run, endTime: run.endTime ?? null };
}

export function toImage(item: Record<string, AttributeValue>): ImageRecord {
  return imageRecordSchema.parse(stripKeys(unmarshall(item)));
}

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const {
    [RunTable.partitionKey]: _pk,
    [RunTable.sortKey]: _sk,
    [RunTable.listPartitionKey]: _g1,
    [RunTable.listSortKey]: _g2,
    ...rest
  } = item;
  return rest;
}
