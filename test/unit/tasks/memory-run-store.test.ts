import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError, InvalidTokenError } from '../../../functions/runs/errors.js';
import type { ImageRecord, RunRecord } from '../../../functions/runs/model.js';
import { closeOpenImages } from '../../../functions/runs/store.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';
import { inProgressRun } from '../../support/run-records.js';

let counter = 0;
function newRun(startTime = '2026-01-01T00:00:00.000Z', total = 3): { run: RunRecord; images: ImageRecord[] } {
  const runId = `run-${counter++}`;
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

/** The rules of the RunStore contract (test/integration/run-store.test.ts), held by the in-memory store too. */
describe('MemoryRunStore (the unit tier fake) keeps the RunStore rules', () => {
  it('moves images only forward and counts each finished image once', async () => {
    const store = new MemoryRunStore();
    const { run, images } = newRun();
    await store.createRun(run, images);
    expect((await store.startImage(run.runId, 0)).kind).toBe('started');
    expect((await store.startImage(run.runId, 0)).kind).toBe('started'); // a retried task may start again
    expect(await store.finishImage(run.runId, 0, { status: 'completed', digest: 'sha256:a', bytes: 100 })).toBe(true);
    expect(await store.finishImage(run.runId, 0, { status: 'failed', message: 'late' })).toBe(false);
    const final = await store.startImage(run.runId, 0);
    expect(final.kind === 'already-final' && final.image.status).toBe('completed');
    await store.finishImage(run.runId, 1, { status: 'failed', message: 'boom' });
    await store.finishImage(run.runId, 2, { status: 'skipped', bytes: 0 });
    expect(await store.getRun(run.runId)).toMatchObject({ imagesProcessed: 3, imagesFailed: 1, bytesCopied: 100 });
  });

  it('reopens an interrupted image (in-progress → pending) and nothing else', async () => {
    const store = new MemoryRunStore();
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

  it('starts no image of a cancelled run; a cancelled run only gets its final counts', async () => {
    const store = new MemoryRunStore();
    const { run, images } = newRun();
    await store.createRun(run, images);
    expect(await store.cancelRun(run.runId)).toBe(true);
    expect(await store.cancelRun(run.runId)).toBe(false);
    expect(await store.startImage(run.runId, 0)).toEqual({ kind: 'run-not-active', status: 'cancelled' });
    const closed = await closeOpenImages(store, run.runId, 'cancelled');
    expect(closed.map((i) => i.status)).toEqual(['failed', 'failed', 'failed']);
    expect(
      await store.finishRun(run.runId, { status: 'completed', imagesProcessed: 3, imagesFailed: 3, bytesCopied: 0 }),
    ).toBe(false);
    expect(await store.getRun(run.runId)).toMatchObject({
      status: 'cancelled',
      message: 'run cancelled',
      imagesProcessed: 3,
      imagesFailed: 3,
    });
  });

  it('binds an Idempotency-Key to its caller and request', async () => {
    const store = new MemoryRunStore();
    const [first, second] = [newRun(), newRun()];
    const claim = { key: 'k', caller: 'arn:aws:iam::111122223333:user/a', requestHash: 'sha256:1' };
    expect((await store.createRun(first.run, first.images, claim)).created).toBe(true);
    expect(await store.createRun(second.run, second.images, claim)).toEqual({ run: first.run, created: false });
    expect(await store.getRun(second.run.runId)).toBeUndefined();
    await expect(
      store.createRun(second.run, second.images, { ...claim, requestHash: 'sha256:2' }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(await store.findByIdempotencyKey({ ...claim, caller: 'someone else' })).toBeUndefined();
  });

  it('lists runs newest first with tokens, and refuses a token it did not issue', async () => {
    const store = new MemoryRunStore();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { run, images } = newRun(`2030-01-01T00:00:0${i}.000Z`, 1);
      await store.createRun(run, images);
      created.push(run.runId);
    }
    const first = await store.listRuns(3);
    expect(first.items.map((r) => r.runId)).toEqual(created.slice(2).reverse());
    const second = await store.listRuns(3, first.nextToken);
    expect(second.items.map((r) => r.runId)).toEqual(created.slice(0, 2).reverse());
    expect(second.nextToken).toBeUndefined();
    await expect(store.listRuns(3, 'forged')).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('holds one schedule lock until its run finishes', async () => {
    const store = new MemoryRunStore();
    const [a, b] = [newRun(), newRun()];
    await store.createRun(a.run, a.images);
    expect(await store.acquireScheduleLock('nightly', a.run.runId)).toEqual({ acquired: true });
    expect(await store.acquireScheduleLock('nightly', b.run.runId)).toEqual({ acquired: false, heldBy: a.run.runId });
    await store.finishRun(a.run.runId, { status: 'completed', imagesProcessed: 3, imagesFailed: 0, bytesCopied: 0 });
    expect(await store.acquireScheduleLock('nightly', b.run.runId)).toEqual({ acquired: true });
  });
});
