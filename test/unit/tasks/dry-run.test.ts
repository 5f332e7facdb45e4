import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../functions/mirror/format.js';
import { dryRunSummary } from '../../../functions/runs/dry-run.js';
import type { ImageRecord } from '../../../functions/runs/model.js';
import { addImage, createRun, DST, harness, imageBytes, SRC } from './harness.js';

/** Operations that change a registry. */
const writes = new Set(['putManifest', 'writeBlob', 'mountBlob']);

describe('dry run', () => {
  it('records what a copy would move as data on the image, and writes nothing', async () => {
    const h = harness();
    const source = h.engines.repo(SRC, 'library/a');
    const digest = addImage(source, 'v1', ['one', 'two']);
    const run = await createRun(h.store, ['library/a:v1'], { dryRun: true });
    await h.tasks.preflight(run.runId);
    expect(await h.tasks.copyImage(run.runId, 0)).toEqual({ status: 'skipped' });
    const bytes = imageBytes(source, digest);
    expect(h.store.image(run.runId, 0)).toMatchObject({
      status: 'skipped',
      digest,
      bytes,
      dryRun: { action: 'copy', blobs: 3, bytes },
    });
    const destination = h.engines.repo(DST, 'mirror/library/a');
    expect(destination.calls.filter((c) => writes.has(c.op))).toEqual([]);
    expect(destination.tags.size).toBe(0);
    // Only manifests are read from the source: no blob is opened.
    expect(source.count('openBlob')).toBe(0);
  });

  it('counts only the blobs the destination lacks', async () => {
    const h = harness();
    const source = h.engines.repo(SRC, 'library/a');
    addImage(source, 'v1', ['shared', 'new']);
    const destination = h.engines.repo(DST, 'mirror/library/a');
    const present = destination.addBlob('shared');
    const run = await createRun(h.store, ['library/a:v1'], { dryRun: true });
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    const found = h.store.image(run.runId, 0).dryRun;
    expect(found?.action).toBe('copy');
    expect(found?.blobs).toBe(2);
    expect(found?.bytes).toBe(imageBytes(source, source.tags.get('v1')!) - present.size);
  });

  it('records an up-to-date image as skip with nothing to move', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    addImage(h.engines.repo(DST, 'mirror/library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1'], { dryRun: true });
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    expect(h.store.image(run.runId, 0)).toMatchObject({
      status: 'skipped',
      message: 'dry run: destination is up to date',
      dryRun: { action: 'skip', blobs: 0, bytes: 0 },
    });
  });

  it('records a kept destination tag as skip', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['new']);
    addImage(h.engines.repo(DST, 'mirror/library/a'), 'v1', ['old']);
    const run = await createRun(h.store, ['library/a:v1'], { dryRun: true, override: false });
    await h.tasks.preflight(run.runId);
    await h.tasks.copyImage(run.runId, 0);
    expect(h.store.image(run.runId, 0).dryRun?.action).toBe('skip');
  });

  it('finishes with a summary built from the recorded findings, the whole run reading only', async () => {
    const h = harness();
    const a = h.engines.repo(SRC, 'library/a');
    const aDigest = addImage(a, 'v1', ['a1', 'a2']);
    const b = h.engines.repo(SRC, 'library/b');
    const bDigest = addImage(b, 'v1', ['b1']);
    addImage(h.engines.repo(SRC, 'library/c'), 'v1', ['c']);
    addImage(h.engines.repo(DST, 'mirror/library/c'), 'v1', ['c']);
    const run = await createRun(h.store, ['library/a:v1', 'library/b:v1', 'library/c:v1', 'library/gone:v1'], {
      dryRun: true,
    });
    const found = await h.tasks.preflight(run.runId);
    for (const index of found.indexes) await h.tasks.copyImage(run.runId, index);
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'failed' });
    const total = imageBytes(a, aDigest) + imageBytes(b, bDigest);
    expect((await h.store.getRun(run.runId))?.message).toBe(
      `dry run: 2 of 4 images would copy, ${formatBytes(total)} at most; 1 failed`,
    );
    for (const name of ['a', 'b', 'c']) {
      const destination = h.engines.repo(DST, `mirror/library/${name}`);
      expect(destination.calls.filter((c) => writes.has(c.op))).toEqual([]);
    }
    expect(h.engines.prepared).toEqual([]);
  });
});

describe('dryRunSummary', () => {
  const image = (index: number, fields: Partial<ImageRecord>): ImageRecord => ({
    runId: 'r',
    index,
    source: `s/${index}`,
    destination: `d/${index}`,
    status: 'skipped',
    ...fields,
  });

  it('counts the images recorded as `copy` and their bytes, not what their message says', () => {
    const images = [
      image(0, { dryRun: { action: 'copy', blobs: 2, bytes: 2048 } }),
      image(1, { dryRun: { action: 'copy', blobs: 1, bytes: 1024 } }),
      // Prose that looks like a copy is not one: only the recorded finding counts.
      image(2, { message: 'dry run: would copy 9 blobs', bytes: 4096, dryRun: { action: 'skip', blobs: 0, bytes: 0 } }),
    ];
    expect(dryRunSummary(images)).toBe('dry run: 2 of 3 images would copy, 3.0 KiB at most');
  });

  it('says how many images failed', () => {
    expect(dryRunSummary([image(0, { status: 'failed' }), image(1, {})])).toBe(
      'dry run: 0 of 2 images would copy, 0 B at most; 1 failed',
    );
  });
});
