import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../functions/mirror/format.js';
import { RunOutputs } from '../../../functions/runs/run-outputs.js';
import { addImage, createRun, DST, harness, imageBytes, SRC } from './harness.js';
import { dA, dB, dC, dD, dryImages, mixed, putRun, setup, to } from './run-output-records.js';

// GET /v1/runs/{id}/plan (issue 9): the pinned plan JSON of a dry run, from crafted records and
// from a dry run the tasks carried out.

describe('GET /v1/runs/{id}/plan', () => {
  it('is the pinned plan JSON of a dry run: run order, blocked as such, failed ones left out (they are in /errors)', async () => {
    const { store, call } = setup();
    await putRun(store, 'dry', dryImages, { dryRun: true, status: 'failed' });
    const res = await call('/v1/runs/dry/plan');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    const zero = { copy: 0, mount: 0, present: 0 };
    expect(res.body).toBe(
      JSON.stringify({
        images: [
          {
            source: 'quay.io/org/app:1.0',
            destination: `${to}/org/app:1.0`,
            digest: dA,
            action: 'copy',
            blobs: { copy: 2, mount: 1, present: 2 },
            bytes: 2000,
          },
          {
            source: `quay.io/org/app@${dB}`,
            destination: `${to}/org/app@${dB}`,
            digest: dB,
            action: 'up-to-date',
            blobs: { copy: 0, mount: 0, present: 4 },
            bytes: 0,
          },
          {
            source: 'docker.io/library/redis:7',
            destination: `${to}/library/redis:7`,
            digest: null,
            action: 'blocked',
            blobs: zero,
            bytes: 0,
          },
          {
            source: 'docker.io/library/busybox:1.36',
            destination: `${to}/library/busybox:1.36`,
            digest: dC,
            action: 'copy',
            blobs: { copy: 2, mount: 0, present: 0 },
            bytes: 500,
          },
          {
            source: `ghcr.io/x/y@${dD}`,
            destination: `${to}/x/y@${dD}`,
            digest: dD,
            action: 'copy',
            blobs: { copy: 0, mount: 2, present: 0 },
            bytes: 0,
          },
        ],
        totals: { images: 5, copy: 3, upToDate: 1, bytes: 2500 },
        sourceManifestGets: 3,
      }),
    );
  });

  it('is a 409 for a run that is not a dry run, and for a dry run still in progress', async () => {
    const { store, outputs, call } = setup();
    await putRun(store, 'real', mixed);
    await putRun(store, 'going', dryImages, { dryRun: true, status: 'in-progress' });
    expect((await call('/v1/runs/real/plan')).status).toBe(409);
    expect((await call('/v1/runs/going/plan')).status).toBe(409);
    await expect(outputs.plan('real')).rejects.toMatchObject({ name: 'ConflictError', code: 'CONFLICT' });
    await expect(outputs.plan('going')).rejects.toMatchObject({ name: 'ConflictError', code: 'CONFLICT' });
  });
});

describe('a dry run through the tasks, then its plan', () => {
  it('records per image what the plan shows: streamed, mounted and present blobs, bytes, source manifest GETs', async () => {
    const h = harness();
    const a = h.engines.repo(SRC, 'library/a');
    const aDigest = addImage(a, 'v1', ['one', 'two']);
    const present = h.engines.repo(DST, 'mirror/library/a').addBlob('one');
    const b = h.engines.repo(SRC, 'library/b');
    const bDigest = addImage(b, 'v1', ['three']);
    // A source on the destination's own registry: a copy would mount all its blobs.
    const c = h.engines.repo(DST, 'other/c');
    const cDigest = addImage(c, 'v1', ['four', 'five']);
    const run = await createRun(h.store, ['library/a:v1', `library/b@${bDigest}`, `${DST}/other/c:v1`], {
      dryRun: true,
    });
    const found = await h.tasks.preflight(run.runId);
    for (const index of found.indexes) await h.tasks.copyImage(run.runId, index);
    expect(await h.tasks.finish(run.runId)).toEqual({ status: 'completed' });
    const aBytes = imageBytes(a, aDigest);
    expect(h.store.image(run.runId, 0).dryRun).toEqual({
      action: 'copy',
      blobs: 2,
      bytes: aBytes - present.size,
      mount: 0,
      mountBytes: 0,
      present: 1,
      manifestGets: 1,
    });
    expect(await new RunOutputs(h.store).plan(run.runId)).toEqual({
      images: [
        {
          source: `${SRC}/library/a:v1`,
          destination: `${DST}/mirror/library/a:v1`,
          digest: aDigest,
          action: 'copy',
          blobs: { copy: 2, mount: 0, present: 1 },
          bytes: aBytes - present.size,
        },
        {
          source: `${SRC}/library/b@${bDigest}`,
          destination: `${DST}/mirror/library/b@${bDigest}`,
          digest: bDigest,
          action: 'copy',
          blobs: { copy: 2, mount: 0, present: 0 },
          bytes: imageBytes(b, bDigest),
        },
        {
          source: `${DST}/other/c:v1`,
          destination: `${DST}/mirror/other/c:v1`,
          digest: cDigest,
          action: 'copy',
          blobs: { copy: 0, mount: 3, present: 0 },
          bytes: 0,
        },
      ],
      totals: { images: 3, copy: 3, upToDate: 0, bytes: aBytes - present.size + imageBytes(b, bDigest) },
      sourceManifestGets: 3,
    });
    // The run's message keeps its prose summary (compatibility): every missing byte, mounts included.
    expect((await h.store.getRun(run.runId))?.message).toBe(
      `dry run: 3 of 3 images would copy, ${formatBytes(aBytes - present.size + imageBytes(b, bDigest) + imageBytes(c, cDigest))} at most`,
    );
  });
});
