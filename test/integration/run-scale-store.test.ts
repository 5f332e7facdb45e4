import {
  BatchWriteItemCommand,
  CreateTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRunDays, RunTable } from '../../functions/contract.js';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import type { ImageRecord } from '../../functions/runs/model.js';
import { writeRequestedImages } from '../../functions/runs/plan-images.js';
import { RunService } from '../../functions/runs/service.js';
import { type RunningDynamo, startDynalite, startDynamoDbLocal } from '../support/dynamodb.js';
import { inProgressRun } from '../support/run-records.js';

// Issue 11 on both DynamoDB engines: the API writes a 10,000-image run in a few items, Plan
// writes the image items in parallel batches (the last one last), `?status=` reads only that
// status's items, and every item of a run carries the run-scoped TTL.

/** What the store sent: every command, and the answers of its queries. */
interface Recorded {
  commands: unknown[];
  queries: { input: QueryCommand['input']; output: QueryCommandOutput }[];
}

/** The engine's client, recording what passes through it. */
function recording(client: DynamoDBClient): { client: DynamoDBClient; recorded: Recorded; reset(): void } {
  const recorded: Recorded = { commands: [], queries: [] };
  const proxy = new Proxy(client, {
    get(target, property) {
      if (property !== 'send') return Reflect.get(target, property, target) as unknown;
      return async (command: Parameters<DynamoDBClient['send']>[0]) => {
        recorded.commands.push(command);
        const output = await target.send(command);
        if (command instanceof QueryCommand)
          recorded.queries.push({ input: command.input, output: output as QueryCommandOutput });
        return output;
      };
    },
  });
  return {
    client: proxy,
    recorded,
    reset: () => {
      recorded.commands.length = 0;
      recorded.queries.length = 0;
    },
  };
}

/** Items the commands wrote: one per PutItem, one per request of a BatchWriteItem. */
function itemsWritten(commands: readonly unknown[]): number {
  return commands.reduce<number>((n, c) => {
    if (c instanceof PutItemCommand) return n + 1;
    if (c instanceof BatchWriteItemCommand)
      return n + Object.values(c.input.RequestItems ?? {}).reduce((m, r) => m + r.length, 0);
    return n;
  }, 0);
}

describe.each([
  ['DynamoDB Local', startDynamoDbLocal],
  ['dynalite', startDynalite],
])('run-scale storage on %s', (_name, start) => {
  let engine: RunningDynamo;
  let rec: ReturnType<typeof recording>;
  let store: DynamoRunStore;
  const table = `scale-${Date.now()}`;
  const now = new Date('2026-12-03T12:00:00.000Z');
  beforeAll(async () => {
    engine = await start();
    await createRunTable(engine.client, table);
    rec = recording(engine.client);
    store = new DynamoRunStore({ client: rec.client, tableName: table, retentionDays: 7, now: () => now });
  }, 60_000);
  afterAll(() => engine?.stop());

  it('a 10,000-image POST writes a few items; Plan writes one per image in batches, the last image last', async () => {
    let ids = 0;
    const service = new RunService({
      store,
      vault: new MemoryVault(),
      workflow: { start: async (runId) => `exec-${runId}`, stop: async () => undefined },
      newId: () => `big-${Date.now()}-${ids++}`,
    });
    const sources = Array.from({ length: 10_000 }, (_, i) => `src.example/team/app-${i % 37}:v${i}`);
    rec.reset();
    const { view } = await service.startRun({ images: sources, destination: { registry: 'dst.example' } });
    expect(itemsWritten(rec.recorded.commands)).toBeLessThanOrEqual(3); // request part(s) and the run
    const run = (await store.getRun(view.runId))!;
    expect(run.totalImages).toBe(10_000);
    expect((await store.getRunRequest(view.runId))!.map((p) => p.source)).toEqual(sources);

    rec.reset();
    await writeRequestedImages(store, run);
    const batches = rec.recorded.commands.filter((c) => c instanceof BatchWriteItemCommand);
    expect(itemsWritten(batches)).toBe(10_000);
    const last = batches[batches.length - 1]!.input.RequestItems![table]!;
    expect(last.map((r) => unmarshall(r.PutRequest!.Item!).index)).toEqual([9_999]);
    const images = await store.listImages(view.runId);
    expect(images).toHaveLength(10_000);
    expect(images[9_999]).toMatchObject({ source: sources[9_999], destination: 'dst.example/team/app-9:v9999' });

    // Plan again (a retry, a resumed run): nothing is written again.
    rec.reset();
    await writeRequestedImages(store, run);
    expect(itemsWritten(rec.recorded.commands)).toBe(0);
  }, 240_000);

  it('retries what BatchWriteItem leaves unprocessed (throttling) until every image is written', async () => {
    // DynamoDB answers a throttled batch with UnprocessedItems: here every batch of more than one
    // item loses its last one, handed back unprocessed.
    let handedBack = 0;
    const throttled = new Proxy(engine.client, {
      get(target, property) {
        if (property !== 'send') return Reflect.get(target, property, target) as unknown;
        return async (command: Parameters<DynamoDBClient['send']>[0]) => {
          const requests = command instanceof BatchWriteItemCommand ? command.input.RequestItems![table]! : [];
          if (requests.length < 2) return target.send(command);
          handedBack++;
          await target.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests.slice(0, -1) } }));
          return { UnprocessedItems: { [table]: requests.slice(-1) } };
        };
      },
    });
    const flaky = new DynamoRunStore({ client: throttled, tableName: table });
    const runId = `throttled-${Date.now()}`;
    await flaky.createRun(inProgressRun({ runId, totalImages: 0 }), []);
    const images: ImageRecord[] = Array.from({ length: 120 }, (_, index) => ({
      runId,
      index,
      source: `src.example/app:${index}`,
      destination: `dst.example/app:${index}`,
      status: 'pending',
    }));
    await flaky.addImages(runId, images);
    expect(handedBack).toBeGreaterThanOrEqual(5);
    expect((await store.listImages(runId)).map((i) => i.index)).toEqual(images.map((i) => i.index));
    expect((await store.getRun(runId))!.totalImages).toBe(120);
  });

  it('reads one status through the status index: only that status is read, paged in image order', async () => {
    const runId = `status-${Date.now()}`;
    const images: ImageRecord[] = Array.from({ length: 600 }, (_, index) => ({
      runId,
      index,
      source: `src.example/app:${index}`,
      destination: `dst.example/app:${index}`,
      status: 'pending',
    }));
    await store.createRun(inProgressRun({ runId, totalImages: 600 }), images);
    const failing = [7, 150, 151, 420, 599];
    for (const index of failing) await store.finishImage(runId, index, { status: 'failed', message: `bad ${index}` });
    await store.startImage(runId, 3);
    rec.reset();
    const first = await store.pageImages(runId, { limit: 3, status: 'failed' });
    expect(first.items.map((i) => i.index)).toEqual([7, 150, 151]);
    expect(first.more).toBe(true);
    const rest = await store.pageImages(runId, { limit: 3, status: 'failed', after: 151 });
    expect(rest.items.map((i) => [i.index, i.status, i.message])).toEqual([
      [420, 'failed', 'bad 420'],
      [599, 'failed', 'bad 599'],
    ]);
    // The index holds the failed images only: DynamoDB read no other item of the run.
    const scanned = rec.recorded.queries.reduce((n, q) => n + (q.output.ScannedCount ?? 0), 0);
    expect(rec.recorded.queries.every((q) => q.input.IndexName === RunTable.statusIndex)).toBe(true);
    expect(scanned).toBe(5);
    expect((await store.pageImages(runId, { limit: 10, status: 'in-progress' })).items.map((i) => i.index)).toEqual([
      3,
    ]);
    // A reopened image moves back to pending in the index too.
    await store.reopenImage(runId, 3);
    expect((await store.pageImages(runId, { limit: 10, status: 'in-progress' })).items).toEqual([]);
    const all = await store.pageImages(runId, { limit: 1000, after: 589 });
    expect(all.items.map((i) => i.index)).toEqual([590, 591, 592, 593, 594, 595, 596, 597, 598, 599]);
  });

  it('gives every item of a run the run-scoped TTL; a finished run expires its retention after it ends', async () => {
    const runId = `ttl-${Date.now()}`;
    await store.putRunDocument(runId, { kind: 'ImageSetConfiguration' });
    await store.putRunRequest(runId, [{ source: 'src.example/a:1', destination: 'dst.example/a:1' }]);
    await store.createRun(inProgressRun({ runId, totalImages: 1 }), []);
    const horizon = Math.floor(now.getTime() / 1000) + (7 + maxRunDays) * 86_400;
    const items = async () => {
      const res = await engine.client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': RunTable.partitionKey },
          ExpressionAttributeValues: marshall({ ':pk': `RUN#${runId}` }),
        }),
      );
      return (res.Items ?? []).map((i) => unmarshall(i) as Record<string, unknown>);
    };
    // A run that never finishes still expires: every item has the horizon from the start.
    const unfinished = await items();
    expect(unfinished.map((i) => [i[RunTable.sortKey], i[RunTable.ttlAttribute]]).sort()).toEqual([
      ['REQ#000', horizon],
      ['RUN', horizon],
      ['SET', horizon],
    ]);
    await writeRequestedImages(store, (await store.getRun(runId))!);
    await store.finishImage(runId, 0, { status: 'completed', digest: `sha256:${'a'.repeat(64)}`, bytes: 1 });
    await store.finishRun(runId, { status: 'completed', imagesProcessed: 1, imagesFailed: 0, bytesCopied: 1 });
    const finished = await items();
    expect(finished.map((i) => i[RunTable.sortKey]).sort()).toEqual(['IMG#0000000', 'REQ#000', 'RUN', 'SET']);
    for (const item of finished)
      expect(typeof item[RunTable.ttlAttribute], String(item[RunTable.sortKey])).toBe('number');
    const run = finished.find((i) => i[RunTable.sortKey] === 'RUN')!;
    expect(run[RunTable.ttlAttribute]).toBe(Math.floor(now.getTime() / 1000) + 7 * 86_400);
    for (const item of finished.filter((i) => i[RunTable.sortKey] !== 'RUN'))
      expect(item[RunTable.ttlAttribute]).toBe(horizon);
  });

  it('reads one status on a table made before the status index (an older --data-dir), with a filter', async () => {
    const older = `older-${Date.now()}`;
    await engine.client.send(
      new CreateTableCommand({
        TableName: older,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: RunTable.partitionKey, AttributeType: 'S' },
          { AttributeName: RunTable.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: RunTable.partitionKey, KeyType: 'HASH' },
          { AttributeName: RunTable.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
    const old = new DynamoRunStore({ client: engine.client, tableName: older });
    const runId = 'old-run';
    await old.createRun(
      inProgressRun({ runId, totalImages: 40 }),
      Array.from({ length: 40 }, (_, index) => ({
        runId,
        index,
        source: `src.example/app:${index}`,
        destination: `dst.example/app:${index}`,
        status: 'pending' as const,
      })),
    );
    for (const index of [4, 30]) await old.finishImage(runId, index, { status: 'failed', message: 'x' });
    const first = await old.pageImages(runId, { limit: 1, status: 'failed' });
    expect(first.items.map((i) => i.index)).toEqual([4]);
    const rest = await old.pageImages(runId, { limit: 5, status: 'failed', after: 4 });
    expect(rest.items.map((i) => i.index)).toEqual([30]);
  });
});
