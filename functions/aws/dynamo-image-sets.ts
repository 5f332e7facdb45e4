import { GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { RunTable } from '../contract.js';
import type { ImageSetStore, Settings, SettingsStore, StoredImageSet } from '../runs/image-set-store.js';
import { destinationSchema } from '../runs/run-request.js';
import type { Page } from '../runs/store.js';
import { type DynamoTable, whenCondition } from './dynamo-expressions.js';
import { queryListing } from './dynamo-page-token.js';

const setKey = (name: string) => ({ [RunTable.partitionKey]: `SET#${name}`, [RunTable.sortKey]: 'SET' });
const settingsKey = { [RunTable.partitionKey]: 'SETTINGS', [RunTable.sortKey]: 'SETTINGS' };

/** A set item as stored; `config` is JSON text (any document fits, empty strings and all). */
const setItem = z.object({
  name: z.string(),
  version: z.number().int().positive(),
  createdAt: z.string(),
  updatedAt: z.string(),
  config: z.string(),
  destination: destinationSchema.optional(),
  schedule: z.string().optional(),
});
/** A deleted set: its key, the last version, and `deleted` (out of the listing index). */
const tombstoneItem = z.object({ version: z.number().int().positive(), deleted: z.literal(true) });
const settingsItem = z.object({ defaultDestination: destinationSchema.optional() });

/**
 * Image sets and settings on the run table: `SET#<name>`/`SET` per set, listed by name through
 * the listing index (partition `SETS`); `SETTINGS`/`SETTINGS` for the settings. Every set write
 * is conditional on the version it replaces. A delete turns the item into a tombstone (`deleted`,
 * the last version, no listing keys) so that versions never repeat under a name. Works on
 * DynamoDB, DynamoDB Local and dynalite.
 */
export class DynamoImageSets implements ImageSetStore, SettingsStore {
  readonly #table: Pick<DynamoTable, 'client' | 'name'>;

  constructor(table: Pick<DynamoTable, 'client' | 'name'>) {
    this.#table = table;
  }

  async getImageSet(name: string): Promise<StoredImageSet | undefined> {
    return (await this.getImageSetVersion(name)).set;
  }

  async getImageSetVersion(name: string): Promise<{ set: StoredImageSet | undefined; version: number }> {
    const res = await this.#table.client.send(
      new GetItemCommand({ TableName: this.#table.name, Key: marshall(setKey(name)), ConsistentRead: true }),
    );
    if (!res.Item) return { set: undefined, version: 0 };
    if (res.Item['deleted'] !== undefined)
      return { set: undefined, version: tombstoneItem.parse(unmarshall(res.Item)).version };
    const set = toSet(res.Item);
    return { set, version: set.version };
  }

  putImageSet(set: StoredImageSet, expectedVersion: number): Promise<boolean> {
    const { config, ...rest } = set;
    return whenCondition(() =>
      this.#table.client.send(
        new PutItemCommand({
          TableName: this.#table.name,
          Item: marshall(
            {
              ...setKey(set.name),
              ...rest,
              config: JSON.stringify(config),
              [RunTable.listPartitionKey]: 'SETS',
              [RunTable.listSortKey]: set.name,
            },
            { removeUndefinedValues: true },
          ),
          ...(expectedVersion === 0
            ? {
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': RunTable.partitionKey },
              }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: marshall({ ':expected': expectedVersion }),
              }),
        }),
      ),
    );
  }

  async listImageSets(limit: number, nextToken?: string): Promise<Page<StoredImageSet>> {
    const page = await queryListing(this.#table, 'imageSets', limit, nextToken);
    return { items: page.items.map(toSet), ...(page.nextToken === undefined ? {} : { nextToken: page.nextToken }) };
  }

  /**
   * The set becomes a tombstone in place: the version stays (the next PUT's condition), the rest
   * and the listing keys go. A PUT over it (conditional on that version) replaces it whole.
   */
  deleteImageSet(name: string): Promise<boolean> {
    return whenCondition(() =>
      this.#table.client.send(
        new UpdateItemCommand({
          TableName: this.#table.name,
          Key: marshall(setKey(name)),
          UpdateExpression:
            'SET #deleted = :true REMOVE #config, #destination, #schedule, #createdAt, #updatedAt, #name, #lpk, #lsk',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#deleted)',
          ExpressionAttributeNames: {
            '#pk': RunTable.partitionKey,
            '#deleted': 'deleted',
            '#config': 'config',
            '#destination': 'destination',
            '#schedule': 'schedule',
            '#createdAt': 'createdAt',
            '#updatedAt': 'updatedAt',
            '#name': 'name',
            '#lpk': RunTable.listPartitionKey,
            '#lsk': RunTable.listSortKey,
          },
          ExpressionAttributeValues: marshall({ ':true': true }),
        }),
      ),
    );
  }

  async getSettings(): Promise<Settings> {
    const res = await this.#table.client.send(
      new GetItemCommand({ TableName: this.#table.name, Key: marshall(settingsKey), ConsistentRead: true }),
    );
    const item = res.Item ? settingsItem.parse(unmarshall(res.Item)) : {};
    return { defaultDestination: item.defaultDestination ?? null };
  }

  async putSettings(settings: Settings): Promise<void> {
    await this.#table.client.send(
      new PutItemCommand({
        TableName: this.#table.name,
        Item: marshall(
          {
            ...settingsKey,
            ...(settings.defaultDestination ? { defaultDestination: settings.defaultDestination } : {}),
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }
}

function toSet(item: Record<string, AttributeValue>): StoredImageSet {
  const { config, destination, schedule, ...rest } = setItem.parse(unmarshall(item));
  return {
    ...rest,
    config: JSON.parse(config) as unknown,
    ...(destination === undefined ? {} : { destination }),
    ...(schedule === undefined ? {} : { schedule }),
  };
}
