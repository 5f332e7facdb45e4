import { describe, expect, it } from 'vitest';
import { ManifestInvalidError, TransportError } from '../../../functions/oci/errors.js';
import { addImage, createRun, DST, harness, imageBytes, SRC } from './harness.js';

/** A run of the given sources, preflighted (tags resolved), ready for copyImage. */
async function ready(
  h: ReturnType<typeof harness>,
  sources: readonly string[],
  options: Parameters<typeof createRun>[2] = {},
) {
  const run = await createRun(h.store, sources, options);
  await h.tasks.preflight(run.runId);
  return run;
}

describe('copyImage', () => {
  it('copies the image digest for digest and records it completed, with the run counters', async () => {
    const h = harness();
    const source = h.engines.repo(SRC, 'library/a');
    const digest = addImage(source, 'v1', ['layer one', 'layer two']);
    const run = await ready(h, ['library/a:v1']);
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'completed' });
    const destination = h.engines.repo(DST, 'mirror/library/a');
    expect(destination.tags.get('v1')).toBe(digest);
    const bytes = imageBytes(source, digest);
    expect(h.store.image(run.runId, 0)).toMatchObject({
      status: 'completed',
      digest,
      bytes,
      message: 'copied 3 blobs, mounted 0, 0 already there',
    });
    expect(await h.store.getRun(run.runId)).toMatchObject({ imagesProcessed: 1, imagesFailed: 0, bytesCopied: bytes });
  });

  it('skips an image the destination already has, pushing nothing', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    addImage(destination, 'v1', ['a']);
    const run = await ready(h, ['library/a:v1']);
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'skipped' });
    expect(h.store.image(run.runId, 0)).toMatchObject({ status: 'skipped', message: 'destination is up to date' });
    expect(destination.count('writeBlob') + destination.count('putManifest')).toBe(0);
  });

  it('keeps a destination tag that points elsewhere when the run does not override', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['new']);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    const theirs = addImage(destination, 'v1', ['old']);
    const run = await ready(h, ['library/a:v1'], { override: false });
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'skipped' });
    expect(destination.tags.get('v1')).toBe(theirs);
    expect(destination.count('putManifest')).toBe(0);
    expect(h.store.image(run.runId, 0).status).toBe('skipped');
  });

  it('overwrites a destination tag that points elsewhere when the run overrides', async () => {
    const h = harness();
    const ours = addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['new']);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    addImage(destination, 'v1', ['old']);
    const run = await ready(h, ['library/a:v1'], { override: true });
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'completed' });
    expect(destination.tags.get('v1')).toBe(ours);
  });

  it('copies the digest preflight resolved even when the source tag moved since', async () => {
    const h = harness();
    const source = h.engines.repo(SRC, 'library/a');
    const first = addImage(source, 'v1', ['first']);
    const run = await ready(h, ['library/a:v1']);
    const moved = addImage(source, 'v1', ['second']);
    expect(moved).not.toBe(first);
    await h.tasks.copyImage(run.runId, 0);
    expect(h.engines.repo(DST, 'mirror/library/a').tags.get('v1')).toBe(first);
    expect(h.store.image(run.runId, 0).digest).toBe(first);
    expect(source.calls.some((c) => c.op === 'getManifest' && c.target === first)).toBe(true);
    expect(source.calls.some((c) => c.target === 'v1' && c.op === 'getManifest')).toBe(false);
  });

  it('throws a retryable error for the state machine, leaving the image open and uncounted', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await ready(h, ['library/a:v1']);
    h.engines.repo(DST, 'mirror/library/a').faults.before = (call) => {
      if (call.op === 'putManifest') throw new TransportError('connection reset', { registry: DST });
    };
    await expect(h.tasks.copyImage(run.runId, 0)).rejects.toMatchObject({ name: 'TransportError', retryable: true });
    expect(h.store.image(run.runId, 0).status).toBe('in-progress');
    expect((await h.store.getRun(run.runId))?.imagesProcessed).toBe(0);
  });

  it('throws a transient network error that is no Ferry error (ECONNRESET) for a retry too', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await ready(h, ['library/a:v1']);
    h.engines.repo(DST, 'mirror/library/a').faults.before = (call) => {
      if (call.op === 'putManifest') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    await expect(h.tasks.copyImage(run.runId, 0)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(h.store.image(run.runId, 0).status).toBe('in-progress');
  });

  it('records a non-retryable error on the image and returns failed; the run goes on', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await ready(h, ['library/a:v1']);
    h.engines.repo(DST, 'mirror/library/a').faults.before = (call) => {
      if (call.op === 'putManifest') throw new ManifestInvalidError('manifest refused');
    };
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'failed' });
    expect(h.store.image(run.runId, 0)).toMatchObject({ status: 'failed', message: 'manifest refused' });
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'in-progress', imagesFailed: 1 });
  });

  it('failFast: the first non-retryable failure ends the run, and no further image starts', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const b = h.engines.repo(SRC, 'library/b');
    addImage(b, 'v1', ['b']);
    const run = await ready(h, ['library/a:v1', 'library/b:v1'], { failFast: true });
    h.engines.repo(DST, 'mirror/library/a').faults.before = (call) => {
      if (call.op === 'putManifest') throw new ManifestInvalidError('manifest refused');
    };
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'failed' });
    expect(await h.store.getRun(run.runId)).toMatchObject({
      status: 'failed',
      message: 'stopped at the first failure (failFast)',
      imagesProcessed: 1,
      imagesFailed: 1,
    });
    const readsBefore = b.calls.length;
    expect(await h.tasks.copyImage(run.runId, 1)).toEqual({ status: 'failed' });
    expect(b.calls.length).toBe(readsBefore);
    expect(h.store.image(run.runId, 1).status).toBe('pending');
  });

  it('sees a cancel at the next push and never pushes the tag (run store checkpoint)', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a', 'b', 'c']);
    const run = await ready(h, ['library/a:v1']);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    let cancelled = false;
    destination.faults.before = async (call) => {
      if (call.op === 'writeBlob' && !cancelled) {
        cancelled = true;
        await h.store.cancelRun(run.runId); // another process cancels while the first blob uploads
      }
    };
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'cancelled' });
    expect(destination.count('putManifest')).toBe(0);
    expect(destination.tags.size).toBe(0);
    expect(h.store.image(run.runId, 0)).toMatchObject({ status: 'failed', message: 'cancelled' });
  });

  it('sees a cancel of this process at once (ferry serve) and never pushes the tag', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a', 'b']);
    const run = await ready(h, ['library/a:v1']);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    destination.faults.before = (call) => {
      if (call.op === 'writeBlob') h.cancellations.cancel(run.runId);
    };
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'cancelled' });
    expect(destination.count('putManifest')).toBe(0);
    expect(h.store.image(run.runId, 0).message).toBe('cancelled');
  });

  it('does nothing for an image of a cancelled run', async () => {
    const h = harness();
    const source = h.engines.repo(SRC, 'library/a');
    addImage(source, 'v1', ['a']);
    const run = await ready(h, ['library/a:v1']);
    await h.store.cancelRun(run.runId);
    const reads = source.calls.length;
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'cancelled' });
    expect(source.calls.length).toBe(reads);
    expect(h.store.image(run.runId, 0).status).toBe('pending');
  });

  it('does not copy an image again once it is final, nor count it twice', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await ready(h, ['library/a:v1']);
    await h.tasks.copyImage(run.runId, 0);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    const pushes = destination.calls.length;
    const counted = await h.store.getRun(run.runId);
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'completed' });
    expect(destination.calls.length).toBe(pushes);
    expect(await h.store.getRun(run.runId)).toEqual(counted);
  });

  it('copies an image a retry finds in progress (its first attempt threw)', async () => {
    const h = harness();
    const digest = addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await ready(h, ['library/a:v1']);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    destination.faults.before = (call) => {
      if (call.op === 'putManifest') throw new TransportError('reset', { registry: DST });
    };
    await expect(h.tasks.copyImage(run.runId, 0)).rejects.toMatchObject({ name: 'TransportError' });
    const started = h.store.image(run.runId, 0).startTime;
    destination.faults.before = undefined;
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'completed' });
    expect(destination.tags.get('v1')).toBe(digest);
    expect(h.store.image(run.runId, 0).startTime).toBe(started);
  });

  it('mounts blobs a sibling image of the run already put in the destination registry', async () => {
    const h = harness();
    const source = h.engines.repo(SRC, 'library/a');
    addImage(source, 'v1', ['shared base']);
    addImage(h.engines.repo(SRC, 'library/b'), 'v1', ['shared base']);
    const run = await ready(h, ['library/a:v1', 'library/b:v1']);
    await h.tasks.copyImage(run.runId, 0);
    await h.tasks.copyImage(run.runId, 1);
    const second = h.engines.repo(DST, 'mirror/library/b');
    // Same layers, so the same config too: both blobs mount, none streams.
    expect(second.count('writeBlob')).toBe(0);
    expect(second.calls.filter((c) => c.op === 'mountBlob' && c.from === 'mirror/library/a')).toHaveLength(2);
    expect(h.store.image(run.runId, 1).message).toBe('copied 0 blobs, mounted 2, 0 already there');
  });
});
