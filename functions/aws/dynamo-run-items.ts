import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import {
  imageRecordSchema,
  type ImageRecord,
  type ImageStatus,
  runRecordSchema,
  type RunRecord,
} from '../runs/model.js';
import { maxRunDays, RunTable } from '../contract.js';
import { capImageMessage } from '../runs/limits.js';

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
  [RunTable.sortKey]: imageSortKey(index),
});
/**
 * When an item of a run written at `now` expires (epoch seconds): the longest a run lasts
 * ({@link maxRunDays}) plus the retention after it ends. Every run-scoped item gets it when it is
 * written — images, request, document, the run itself until it ends, and any item another part
 * keeps per run (checkpoints, claims) — so that a run that never finishes still goes.
 */
export function runScopedExpiry(now: Date, retentionSeconds: number): number {
  return Math.floor(now.getTime() / 1000) + retentionSeconds + maxRunDays * 86_400;
}

/** The partition of a run's items; its images sort under this prefix. */
export const runPartition = (runId: string) => `RUN#${runId}`;
export const imageSortPrefix = 'IMG#';
/** The sort key of image `index` (seven digits: a run holds fewer than 10,000,000 images). */
export const imageSortKey = (index: number) => `${imageSortPrefix}${String(index).padStart(7, '0')}`;
/** The status index's partition of a run's images of one status. */
export const imageStatusKey = (runId: string, status: ImageStatus) => `${runPartition(runId)}#${status}`;

/** The attributes that keep an image item in the status index: set on every write of its status. */
export function imageStatusAttribute(runId: string, status: ImageStatus): Record<string, string> {
  return { [RunTable.statusPartitionKey]: imageStatusKey(runId, status) };
}

/** An image item as written: its key, its status index key, the record, the run-scoped TTL. */
export function imageItem(image: ImageRecord, expiresAt: number): Record<string, unknown> {
  return {
    ...imageKey(image.runId, image.index),
    ...imageStatusAttribute(image.runId, image.status),
    ...image,
    message: capImageMessage(image.message),
    [RunTable.ttlAttribute]: expiresAt,
  };
}

/** A run item as the record, or undefined when it expired (DynamoDB deletes expired items lazily; DynamoDB Local and dynalite never). */
export function toRun(item: Record<string, AttributeValue>, nowSeconds: number): RunRecord | undefined {
  const parsed = runItem.parse(stripKeys(unmarshall(item)));
  const { [RunTable.ttlAttribute]: expiresAt, ...run } = parsed;
  if (expiresAt !== undefined && expiresAt < nowSeconds) return undefined;
  return { ...run, endTime: run.endTime ?? null };
}

export function toImage(item: Record<string, AttributeValue>): ImageRecord {
  // The TTL is the table's bookkeeping, not the record's (the schema drops it).
  return imageRecordSchema.parse(stripKeys(unmarshall(item)));
}

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const {
    [RunTable.partitionKey]: _pk,
    [RunTable.sortKey]: _sk,
    [RunTable.listPartitionKey]: _g1,
    [RunTable.listSortKey]: _g2,
    [RunTable.statusPartitionKey]: _g3,
    ...rest
  } = item;
  return rest;
}
