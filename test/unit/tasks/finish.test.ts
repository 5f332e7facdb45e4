import { describe, expect, it } from 'vitest';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import type { CredentialRef } from '../../../functions/runs/model.js';
import { addImage, createRun, harness, SRC } from './harness.js';

describe('finish', () => {
  it('completes a run whose images all completed or skipped: counts, one event, credentials released', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    addImage(h.engines.repo(SRC, 'library/b'), 'v1', ['b']);
    const run = await createRun(h.store, ['library/a:v1', 'library/b:v1']);
    await h.vault.store(run.runId, 'source', SRC, { kind: 'basic', username: 'u', password: 'p' });
    await h.vault.store('another-run', 'source', SRC, { kind: 'basic', username: 'u', password: 'p' });
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    await h.tasks.copyImage(run.runId, 1);
    const stored = await h.store.getRun(run.runId);
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'completed' });
    const ended = await h.store.getRun(run.runId);
    expect(ended).toMatchObject({ status: 'completed', imagesProcessed: 2, imagesFailed: 0 });
    expect(ended?.bytesCopied).toBe(stored?.bytesCopied);
    expect(ended?.endTime).not.toBeNull();
    expect(h.events.published).toEqual([
      { runId: run.runId, status: 'completed', totalImages: 2, imagesFailed: 0, bytesCopied: stored?.bytesCopied },
    ]);
    expect(h.vault.size).toBe(1); // the other run's credential stays
  });

  it('fails a run in which any image failed, and says how many', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1', 'library/gone:v1']);
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'failed' });
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'failed', imagesProcessed: 2, imagesFailed: 1 });
    expect(h.events.published).toHaveLength(1);
    expect(h.events.published[0]).toMatchObject({ status: 'failed', imagesFailed: 1 });
  });

  it('closes images the workflow never reached, with the reason', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1', 'library/a:v1']);
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'failed' });
    expect(h.store.image(run.runId, 1)).toMatchObject({
      status: 'failed',
      message: 'not copied: the workflow ended before this image ran',
    });
  });

  it('after failFast, says the rest were not copied because the run stopped', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/gone:v1', 'library/other:v1'], { failFast: true });
    await h.tasks.recordFailure(run.runId, 0, 'boom');
    await h.tasks.finish(run.runId);
    expect(h.store.image(run.runId, 1)).toMatchObject({
      status: 'failed',
      message: 'not copied: the run stopped at the first failure (failFast)',
    });
    expect(await h.store.getRun(run.runId)).toMatchObject({
      status: 'failed',
      message: 'stopped at the first failure (failFast)',
      imagesProcessed: 2,
      imagesFailed: 2,
    });
  });

  it('leaves a cancelled run cancelled, closing its pending images as cancelled, with final counts', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1', 'library/a:v1']);
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    await h.store.cancelRun(run.runId);
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'cancelled' });
    expect(h.store.image(run.runId, 1)).toMatchObject({ status: 'failed', message: 'cancelled' });
    expect(await h.store.getRun(run.runId)).toMatchObject({
      status: 'cancelled',
      imagesProcessed: 2,
      imagesFailed: 1,
    });
    expect(h.events.published.map((e) => e.status)).toEqual(['cancelled']);
  });

  it('leaves images still copying to finish themselves', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1'], {}, ['in-progress']);
    await h.tasks.finish(run.runId);
    expect(h.store.image(run.runId, 0).status).toBe('in-progress');
    expect(h.store.calls.filter((c) => c.op === 'finishImage')).toEqual([]);
  });

  it('answers missing for a run that does not exist, publishing nothing', async () => {
    const h = harness();
    expect(await h.tasks.finish('no-such-run')).toEqual({ status: 'missing' });
    expect(h.events.published).toEqual([]);
  });

  it('finishes even when the run secrets cannot be deleted (the sweep will)', async () => {
    class FailingVault extends MemoryVault {
      override release(): Promise<void> {
        return Promise.reject(new Error('AccessDenied'));
      }
    }
    const h = harness({ vault: new FailingVault() });
    const run = await createRun(h.store, ['library/gone:v1']);
    await h.tasks.preflight(run.runId);
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'failed' });
    expect(h.events.published).toHaveLength(1);
  });

  it('names the schedule that started the run in the event', async () => {
    const h = harness();
    const run = await createRun(h.store, [], { schedule: 'nightly' });
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'completed' });
    expect(h.events.published).toEqual([
      { runId: run.runId, status: 'completed', totalImages: 0, imagesFailed: 0, bytesCopied: 0, schedule: 'nightly' },
    ]);
  });

  it('releases only through the vault the run used: a credential reference never reaches the event', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/gone:v1']);
    const ref: CredentialRef = await h.vault.store(run.runId, 'destination', 'dst.test', {
      kind: 'basic',
      username: 'u',
      password: 'secret',
    });
    await h.tasks.finish(run.runId);
    expect(h.vault.size).toBe(0);
    await expect(h.vault.resolve(ref)).rejects.toMatchObject({ name: 'CredentialError' });
    expect(JSON.stringify(h.events.published)).not.toContain(ref.secretArn);
  });
});

describe('finishFailed (Finish’s Catch)', () => {
  it('marks the run failed naming the cause, releases its secrets, publishes the event', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1', 'library/a:v1'], { schedule: 'nightly' });
    await h.vault.store(run.runId, 'source', SRC, { kind: 'basic', username: 'u', password: 'p' });
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    expect(await h.tasks.finishFailed(run.runId, 'CatalogError: boom')).toEqual({ status: 'failed' });
    expect(await h.store.getRun(run.runId)).toMatchObject({
      status: 'failed',
      message: 'the run could not finish: CatalogError: boom',
      imagesProcessed: 2,
      imagesFailed: 1,
    });
    expect(h.store.image(run.runId, 1).message).toBe('not copied: the run could not finish: CatalogError: boom');
    expect(h.vault.size).toBe(0);
    expect(h.events.published).toEqual([expect.objectContaining({ status: 'failed', schedule: 'nightly' })]);
  });

  it('still marks the run failed when its images cannot be listed or the event cannot be published', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1'], {}, ['completed']);
    h.store.listImages = () => Promise.reject(new Error('store: throughput exceeded'));
    h.events.runFinished = () => Promise.reject(new Error('bus down'));
    expect(await h.tasks.finishFailed(run.runId, 'Error: store: throughput exceeded')).toEqual({ status: 'failed' });
    expect(await h.store.getRun(run.runId)).toMatchObject({
      status: 'failed',
      message: 'the run could not finish: Error: store: throughput exceeded',
    });
  });

  it('leaves a run that had ended (cancelled, or finished before Finish failed) as it was', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1']);
    await h.store.cancelRun(run.runId);
    expect(await h.tasks.finishFailed(run.runId, 'boom')).toEqual({ status: 'cancelled' });
    expect(await h.tasks.finishFailed('no-such-run', 'boom')).toEqual({ status: 'missing' });
  });
});

describe('recordFailure', () => {
  it('fails the image with the reason and leaves a run without failFast going', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1', 'library/b:v1']);
    expect(await h.tasks.recordFailure(run.runId, 0, 'blob upload reset')).toEqual({ status: 'failed' });
    expect(h.store.image(run.runId, 0)).toMatchObject({
      status: 'failed',
      message: 'blob upload reset (gave up after retries)',
    });
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'in-progress', imagesFailed: 1 });
  });

  it('does not overwrite an image that reached a final status first', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1'], {}, ['completed']);
    await h.tasks.recordFailure(run.runId, 0, 'late');
    expect(h.store.image(run.runId, 0).status).toBe('completed');
    expect(h.store.calls.filter((c) => c.op === 'finishImage')).toEqual([
      { op: 'finishImage', runId: run.runId, index: 0, made: false },
    ]);
  });
});
