import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBlobIndex } from '../../functions/aws/dynamo-blob-index.js';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import type { ImageRecord, RunRecord } from '../../functions/runs/model.js';
import {
  IdempotencyConflictError,
  IdempotencyInProgressError,
  InvalidTokenError,
} from '../../functions/runs/errors.js';
import { type RunningDynamo, startDynalite, startDynamoDbLocal } from '../support/dynamodb.js';
import { inProgressRun } from '../support/run-records.js';

let counter = 0;
function newRun(startTime = new Date().toISOString(), total = 3): { run: RunRecord; images: ImageRecord[] } {
  const runId = `run-${Date.now()}-${counter++}`;
  return {
    run: inProgressRun({ runId, totalImages: total, startTime }),
    images: Array.from({ length: total }, (_, index) => ({
      runId,
      index,
      source: `src.example/app${index}:1`,
      destination: `r.example/app${index}:1`,
      status: 'pending' as const,
    })),
  };
}

/** The engine's client, with every BatchWriteItem (createRun's image writes) first passing `before`. */
function beforeBatches(client: DynamoDBClient, before: () => Promise<void>): DynamoDBClient {
  return new Proxy(client, {
    get(target, property) {
      if (property !== 'send') return Reflect.get(target, property, target) as unknown;
      return async (command: Parameters<DynamoDBClient['send']>[0]) => {
        if (command instanceof BatchWriteItemCommand) await before();
        return target.send(command);
      };
    },
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each([
  ['DynamoDB Local', startDynamoDbLocal],
  ['dynalite', startDynalite],
])('DynamoRunStore on %s (contract)', (_name, start) => {
  let engine: RunningDynamo;
  let store: DynamoRunStore;
  const table = `runs-${Date.now()}`;
  beforeAll(async () => {
    engine = await start();
    await createRunTable(engine.client, table);
    store = new DynamoRunStore({ client: engine.client, tableName: table });
  }, 60_000);
  afterAll(() => engine?.stop());

  it('writes a run of 1,000 images in item-sized pieces and reads it back in order', async () => {
    const { run, images } = newRun(undefined, 1000);
    expect((await store.createRun(run, images)).created).toBe(true);
    expect(await store.getRun(run.runId)).toEqual(run);
    const read = await store.listImages(run.runId);
    expect(read).toHaveLength(1000);
    expect(read.map((i) => i.index)).toEqual(images.map((i) => i.index));
    expect(await store.getImage(run.runId, 999)).toEqual(images[999]);
  });

  it('returns the earlier run for a repeated idempotency key and writes nothing', async () => {
    const first = newRun();
    const second = newRun();
    const claim = { key: `key-${counter}`, caller: 'arn:aws:iam::111122223333:user/a', requestHash: 'sha256:1' };
    await store.createRun(first.run, first.images, claim);
    const again = await store.createRun(second.run, second.images, claim);
    expect(again).toEqual({ run: first.run, created: false });
    expect(await store.getRun(second.run.runId)).toBeUndefined();
    expect(await store.listImages(second.run.runId)).toEqual([]);
  });

  it('refuses a key reused for another request, and keeps keys of two callers apart', async () => {
    const [first, other, third] = [newRun(), newRun(), newRun()];
    const claim = { key: `key-${counter}`, caller: 'arn:aws:iam::111122223333:user/a', requestHash: 'sha256:1' };
    await store.createRun(first.run, first.images, claim);
    await expect(
      store.createRun(other.run, other.images, { ...claim, requestHash: 'sha256:2' }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(await store.getRun(other.run.runId)).toBeUndefined();
    expect(await store.findByIdempotencyKey(claim)).toEqual(first.run);
    await expect(store.findByIdempotencyKey({ ...claim, requestHash: 'sha256:2' })).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
    expect(await store.findByIdempotencyKey({ ...claim, caller: 'arn:aws:iam::444455556666:user/b' })).toBeUndefined();
    const stranger = await store.createRun(third.run, third.images, {
      ...claim,
      caller: 'arn:aws:iam::444455556666:user/b',
    });
    expect(stranger).toEqual({ run: third.run, created: true });
  });

  describe('an Idempotency-Key whose run is not written yet', () => {
    const window = 60_000;
    const clock = { now: Date.parse('2033-01-01T00:00:00Z') };
    const storeWith = (client: DynamoDBClient) =>
      new DynamoRunStore({
        client,
        tableName: table,
        now: () => new Date(clock.now),
        idempotencyTakeoverMs: window,
        idempotencyWaitMs: 0,
      });
    const claimOf = () => ({
      key: `key-${counter++}`,
      caller: 'arn:aws:iam::111122223333:user/a',
      requestHash: 'sha256:1',
    });

    it('is taken over once its request died (after the takeover window, not before), and then stands for the new run', async () => {
      const claim = claimOf();
      const first = newRun();
      const dying = storeWith(
        beforeBatches(engine.client, () => Promise.reject(new Error('Task timed out after 30.00 seconds'))),
      );
      await expect(dying.createRun(first.run, first.images, claim)).rejects.toThrow('Task timed out');
      const retry = newRun();
      clock.now += window - 1_000;
      await expect(storeWith(engine.client).findByIdempotencyKey(claim)).rejects.toBeInstanceOf(
        IdempotencyInProgressError,
      );
      await expect(storeWith(engine.client).createRun(retry.run, retry.images, claim)).rejects.toBeInstanceOf(
        IdempotencyInProgressError,
      );
      expect(await store.getRun(retry.run.runId)).toBeUndefined();
      clock.now += 2_000;
      expect(await storeWith(engine.client).findByIdempotencyKey(claim)).toBeUndefined();
      expect(await storeWith(engine.client).createRun(retry.run, retry.images, claim)).toEqual({
        run: retry.run,
        created: true,
      });
      const later = newRun();
      expect(await storeWith(engine.client).createRun(later.run, later.images, claim)).toEqual({
        run: retry.run,
        created: false,
      });
      expect(await store.getRun(first.run.runId)).toBeUndefined();
      expect(await store.getRun(later.run.runId)).toBeUndefined();
    });

    it('is never taken over while its request is still writing the run (retries answer "in progress"; one run)', async () => {
      const claim = claimOf();
      const first = newRun(undefined, 75); // three batches of images before the run item
      const stops = [deferred(), deferred()].map((release) => ({ reached: deferred(), release }));
      let batches = 0;
      const holder = storeWith(
        beforeBatches(engine.client, async () => {
          const stop = stops[batches++ - 1]; // held before its second and third batch
          if (stop) {
            stop.reached.resolve();
            await stop.release.promise;
          }
        }),
      );
      const writing = holder.createRun(first.run, first.images, claim);
      const retry = newRun();
      await stops[0]!.reached.promise;
      clock.now += window / 3;
      await expect(storeWith(engine.client).createRun(retry.run, retry.images, claim)).rejects.toBeInstanceOf(
        IdempotencyInProgressError,
      );
      stops[0]!.release.resolve();
      await stops[1]!.reached.promise;
      // Longer than the window since the key was first claimed: the writer renewed its claim meanwhile.
      clock.now += window;
      await expect(storeWith(engine.client).createRun(retry.run, retry.images, claim)).rejects.toBeInstanceOf(
        IdempotencyInProgressError,
      );
      await expect(storeWith(engine.client).findByIdempotencyKey(claim)).rejects.toBeInstanceOf(
        IdempotencyInProgressError,
      );
      stops[1]!.release.resolve();
      expect(await writing).toEqual({ run: first.run, created: true });
      expect(await storeWith(engine.client).createRun(retry.run, retry.images, claim)).toEqual({
        run: first.run,
        created: false,
      });
      expect(await store.getRun(retry.run.runId)).toBeUndefined();
      expect(await store.listImages(retry.run.runId)).toEqual([]);
      expect(await store.listImages(first.run.runId)).toHaveLength(75);
    });
  });

  it('reopens an interrupted image (in-progress → pending) and nothing else', async () => {
    const { run, images } = newRun();
    await store.createRun(run, images);
    await store.startImage(run.runId, 0);
    await store.startImage(run.runId, 1);
    await store.finishImage(run.runId, 1, { status: 'completed', bytes: 1 });
    expect(await store.reopenImage(run.runId, 0)).toBe(true);
    expect(await store.reopenImage(run.runId, 1)).toBe(false);
    expect(await store.reopenImage(run.runId, 2)).toBe(false);
    expect((await store.listImages(run.runId)).map((i) => i.status)).toEqual(['pending', 'completed', 'pending']);
    expect((await store.getImage(run.runId, 0))?.startTime).toBeUndefined();
  });

  it('moves images only forward and counts atomically', async () => {
    const { run, images } = newRun();
    await store.createRun(run, images);
    const started = await store.startImage(run.runId, 0);
    expect(started.kind).toBe('started');
    expect(started.kind === 'started' && started.image.status).toBe('in-progress');
    expect((await store.startImage(run.runId, 0)).kind).toBe('started'); // a retried task may start again
    expect(await store.finishImage(run.runId, 0, { status: 'completed', digest: 'sha256:a', bytes: 100 })).toBe(true);
    expect(await store.finishImage(run.runId, 0, { status: 'failed', message: 'late' })).toBe(false);
    const final = await store.startImage(run.runId, 0);
    expect(final.kind === 'already-final' && final.image.status).toBe('completed');
    await Promise.all([
      store.finishImage(run.runId, 1, { status: 'failed', message: 'boom' }),
      store.finishImage(run.runId, 2, { status: 'skipped', bytes: 0 }),
    ]);
    expect(await store.getRun(run.runId)).toMatchObject({ imagesProcessed: 3, imagesFailed: 1, bytesCopied: 100 });
    expect(await store.getImage(run.runId, 1)).toMatchObject({ status: 'failed', message: 'boom' });
  });

  it('counts an image’s copy invocations atomically, and never creates an image that is not there', async () => {
    const { run, images } = newRun();
    await store.createRun(run, images);
    await store.startImage(run.runId, 0);
    expect(await store.countInvocation(run.runId, 0)).toBe(1);
    expect(await Promise.all([store.countInvocation(run.runId, 0), store.countInvocation(run.runId, 0)])).toEqual(
      expect.arrayContaining([2, 3]),
    );
    await store.finishImage(run.runId, 0, { status: 'completed', bytes: 1 });
    expect(await store.getImage(run.runId, 0)).toMatchObject({ status: 'completed', invocations: 3 });
    expect((await store.listImages(run.runId)).map((i) => i.invocations)).toEqual([3, undefined, undefined]);
    await expect(store.countInvocation(run.runId, 7)).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    expect(await store.getImage(run.runId, 7)).toBeUndefined();
  });

  it("keeps a dry run's finding on the image as data (the run summary counts it)", async () => {
    const { run, images } = newRun();
    await store.createRun(run, images);
    const dryRun = { action: 'copy' as const, blobs: 3, bytes: 4096 };
    expect(
      await store.finishImage(run.runId, 0, {
        status: 'skipped',
        digest: 'sha256:a',
        bytes: 4096,
        message: 'm',
        dryRun,
      }),
    ).toBe(true);
    expect(await store.getImage(run.runId, 0)).toMatchObject({ status: 'skipped', digest: 'sha256:a', dryRun });
    expect((await store.listImages(run.runId))[0]?.dryRun).toEqual(dryRun);
    expect((await store.getImage(run.runId, 1))?.dryRun).toBeUndefined();
  });

  it('starts no image of a cancelled run and never restarts a finished one', async () => {
    const { run, images } = newRun();
    await store.createRun(run, images);
    expect(await store.cancelRun(run.runId)).toBe(true);
    expect(await store.cancelRun(run.runId)).toBe(false);
    expect(await store.startImage(run.runId, 0)).toEqual({ kind: 'run-not-active', status: 'cancelled' });
    expect(
      await store.finishRun(run.runId, { status: 'completed', imagesProcessed: 0, imagesFailed: 0, bytesCopied: 0 }),
    ).toBe(false);
    expect(await store.getRun(run.runId)).toMatchObject({ status: 'cancelled', message: 'run cancelled' });
    expect((await store.getRun(run.runId))?.endTime).not.toBeNull();
  });

  it('lists runs newest first with pagination tokens, and rejects forged tokens', async () => {
    const base = Date.parse('2030-01-01T00:00:00Z');
    const created = [];
    for (let i = 0; i < 5; i++) {
      const { run, images } = newRun(new Date(base + i * 1000).toISOString(), 1);
      await store.createRun(run, images);
      created.push(run.runId);
    }
    const first = await store.listRuns(3);
    expect(first.items.map((r) => r.runId)).toEqual(created.slice(2).reverse());
    const second = await store.listRuns(3, first.nextToken);
    expect(second.items.slice(0, 2).map((r) => r.runId)).toEqual(created.slice(0, 2).reverse());
    await expect(store.listRuns(3, 'not-a-token')).rejects.toBeInstanceOf(InvalidTokenError);
    // Well-formed JSON of the wrong shape must not reach the engine (a ValidationException, a 500).
    for (const forged of [
      {},
      { a: 'b' },
      { pk: 'RUN#x', sk: 'RUN' },
      { pk: 'IDEM#x', sk: 'IDEM', gsi1pk: 'RUNS', gsi1sk: 'x' },
    ]) {
      await expect(store.listRuns(3, Buffer.from(JSON.stringify(forged)).toString('base64url'))).rejects.toBeInstanceOf(
        InvalidTokenError,
      );
    }
  });

  it('hides finished runs past their TTL (engines that never expire items included)', async () => {
    const now = Date.now();
    const early = new DynamoRunStore({
      client: engine.client,
      tableName: table,
      retentionDays: 1,
      now: () => new Date(now),
    });
    const { run, images } = newRun(new Date(now).toISOString(), 1);
    await early.createRun(run, images);
    await early.finishRun(run.runId, { status: 'completed', imagesProcessed: 1, imagesFailed: 0, bytesCopied: 0 });
    expect(await early.getRun(run.runId)).toMatchObject({ status: 'completed' });
    const later = new DynamoRunStore({
      client: engine.client,
      tableName: table,
      now: () => new Date(now + 2 * 86_400_000),
    });
    expect(await later.getRun(run.runId)).toBeUndefined();
    expect((await later.listRuns(100)).items.some((r) => r.runId === run.runId)).toBe(false);
  });

  it('holds one schedule lock until its run finishes', async () => {
    const a = newRun();
    const b = newRun();
    await store.createRun(a.run, a.images);
    expect(await store.acquireScheduleLock(`nightly-${counter}`, a.run.runId)).toEqual({ acquired: true });
    expect(await store.acquireScheduleLock(`nightly-${counter}`, b.run.runId)).toEqual({
      acquired: false,
      heldBy: a.run.runId,
    });
    await store.finishRun(a.run.runId, { status: 'completed', imagesProcessed: 3, imagesFailed: 0, bytesCopied: 0 });
    expect(await store.acquireScheduleLock(`nightly-${counter}`, b.run.runId)).toEqual({ acquired: true });
  });

  it('keeps where blobs are per registry, refreshes a location when recorded again, forgets it when told or past its TTL', async () => {
    const now = Date.parse('2031-01-01T00:00:00Z');
    const at = (days: number) =>
      new DynamoBlobIndex({
        client: engine.client,
        tableName: table,
        retentionDays: 7,
        now: () => new Date(now + days * 86_400_000),
      });
    const digest = `sha256:${'ab'.repeat(31)}${String(counter++).padStart(2, '0')}`;
    await at(0).record('r.example', digest, 'team/base');
    await at(0).record('r.example', digest, 'team/app');
    await at(0).record('other.example', digest, 'elsewhere');
    expect([...(await at(1).locations('r.example', digest))].sort()).toEqual(['team/app', 'team/base']);
    expect(await at(1).locations('other.example', digest)).toEqual(['elsewhere']);
    expect(await at(1).locations('r.example', `sha256:${'cd'.repeat(32)}`)).toEqual([]);
    // A location whose mount was refused is forgotten at once (forgetting an unknown one is no error).
    await at(2).forget('r.example', digest, 'team/base');
    await at(2).forget('r.example', digest, 'never/there');
    expect(await at(2).locations('r.example', digest)).toEqual(['team/app']);
    await at(5).record('r.example', digest, 'team/app');
    expect(await at(9).locations('r.example', digest)).toEqual(['team/app']);
    expect(await at(13).locations('r.example', digest)).toEqual([]);
    // Blob locations are not runs: listing never shows them.
    expect((await store.listRuns(100)).items.every((r) => r.runId.startsWith('run-'))).toBe(true);
  });

  it('grants one claim on a blob transfer at a time, renews it for its holder, and lets another take it once released or lapsed', async () => {
    let now = Date.parse('2031-02-01T00:00:00Z');
    const leases = new DynamoBlobIndex({ client: engine.client, tableName: table, now: () => new Date(now) });
    const digest = `sha256:${'ef'.repeat(31)}${String(counter++).padStart(2, '0')}`;
    expect(await leases.claim('r.example', digest, 'a', 10_000)).toEqual({ granted: true });
    expect(await leases.claim('r.example', digest, 'b', 10_000)).toEqual({ granted: false, until: now + 10_000 });
    expect(await leases.claim('other.example', digest, 'b', 10_000)).toEqual({ granted: true });
    now += 5_000;
    expect(await leases.claim('r.example', digest, 'a', 10_000)).toEqual({ granted: true }); // renewal
    await leases.release('r.example', digest, 'b'); // not b's to release
    expect(await leases.claim('r.example', digest, 'b', 10_000)).toEqual({ granted: false, until: now + 10_000 });
    now += 10_001;
    expect(await leases.claim('r.example', digest, 'b', 10_000)).toEqual({ granted: true }); // a's lapsed
    await leases.release('r.example', digest, 'b');
    expect(await leases.claim('r.example', digest, 'a', 10_000)).toEqual({ granted: true });
    // The claim is not a location.
    expect(await leases.locations('r.example', digest)).toEqual([]);
  });
});
