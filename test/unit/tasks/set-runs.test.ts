import { describe, expect, it } from 'vitest';
import { type Digest, parseDigest } from '../../../functions/oci/digest.js';
import { TransportError } from '../../../functions/oci/errors.js';
import { imageView } from '../../../functions/runs/run-view.js';
import { addImage, createSetRun, DST, harness, setDocument, SRC } from './harness.js';

/** The Plan task of runs of an image set (issue 9): expansion in preflight, and prune runs. */

describe('a run of an image set', () => {
  it('expands the set in preflight: policies, digests, blocked images, per-image platforms', async () => {
    const { store, engines, tasks } = harness();
    const app = engines.repo(SRC, 'team/app');
    for (const tag of ['1.0.0', '1.1.0', 'v1.2.0', '2.0.0', '1.3.0-rc.1', 'latest']) addImage(app, tag, [tag]);
    const pinned = addImage(engines.repo(SRC, 'team/tool'), 'x', ['tool']);
    addImage(engines.repo(SRC, 'team/blocked'), 'v1', ['blocked']);
    const run = await createSetRun(
      store,
      setDocument({
        additionalImages: [{ name: `${SRC}/team/tool@${pinned}` }, { name: `${SRC}/team/blocked:v1` }],
        blockedImages: [{ name: `${SRC}/team/blocked` }],
        repositories: [
          { name: `${SRC}/team/app`, tags: { semver: '>=1.0.0 <2', latest: 2 }, platforms: ['linux/amd64'] },
        ],
      }),
    );
    const found = await tasks.preflight(run.runId);
    const images = await store.listImages(run.runId);
    expect(images.map((i) => [i.source, i.destination, i.status, i.blocked ?? false, i.platforms ?? []])).toEqual([
      [`${SRC}/team/tool@${pinned}`, `${DST}/mirror/team/tool@${pinned}`, 'pending', false, []],
      [`${SRC}/team/blocked:v1`, `${DST}/mirror/team/blocked:v1`, 'skipped', true, []],
      [`${SRC}/team/app:v1.2.0`, `${DST}/mirror/team/app:v1.2.0`, 'pending', false, ['linux/amd64']],
      [`${SRC}/team/app:1.1.0`, `${DST}/mirror/team/app:1.1.0`, 'pending', false, ['linux/amd64']],
    ]);
    expect(found).toEqual({ proceed: true, indexes: [0, 2, 3], failFast: false });
    expect((await store.getRun(run.runId))?.totalImages).toBe(4);

    for (const index of found.indexes) await tasks.copyImage(run.runId, index);
    await tasks.finish(run.runId);
    const dst = engines.repo(DST, 'mirror/team/app');
    expect([...dst.tags.keys()].sort()).toEqual(['1.1.0', 'v1.2.0']);
    expect(dst.tags.get('1.1.0')).toBe(app.tags.get('1.1.0'));
    expect(engines.repo(DST, 'mirror/team/blocked').tags.size).toBe(0);
    expect(await store.getRun(run.runId)).toMatchObject({ status: 'completed', imagesProcessed: 4, imagesFailed: 0 });
  });

  it('a retried Plan does not expand again; a set selecting nothing finishes with no images', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'team/app'), '1.0.0', ['a']);
    const run = await createSetRun(store, setDocument({ repositories: [{ name: `${SRC}/team/app` }] }));
    expect(await tasks.preflight(run.runId)).toMatchObject({ proceed: true, indexes: [0] });
    addImage(engines.repo(SRC, 'team/app'), '1.1.0', ['b']); // listed again, it would select two
    expect(await tasks.preflight(run.runId)).toMatchObject({ proceed: true, indexes: [0] });
    expect(store.calls.filter((c) => c.op === 'addImages')).toHaveLength(1);

    const empty = await createSetRun(
      store,
      setDocument({ repositories: [{ name: `${SRC}/team/app`, tags: { include: ['^9'] } }] }),
    );
    expect(await tasks.preflight(empty.runId)).toEqual({ proceed: false, indexes: [], failFast: false });
    await tasks.finish(empty.runId);
    expect(await store.getRun(empty.runId)).toMatchObject({ status: 'completed', totalImages: 0 });
  });

  it('fails the run, writing no image, when a source repository cannot be listed', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'team/app'), '1.0.0', ['a']);
    engines.repo(SRC, 'team/app').listTags = () =>
      Promise.reject(new TransportError(`${SRC}: connection refused`, { registry: SRC }));
    const run = await createSetRun(store, setDocument({ repositories: [{ name: `${SRC}/team/app` }] }));
    expect(await tasks.preflight(run.runId)).toEqual({ proceed: false, indexes: [], failFast: false });
    const ended = await store.getRun(run.runId);
    expect(ended).toMatchObject({ status: 'failed', totalImages: 0 });
    expect(ended?.message).toMatch(/^image set: .*connection refused/);
    expect(await store.listImages(run.runId)).toEqual([]);
  });

  it('fails the second of two images that map to one destination', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'team/app'), 'v1', ['a']);
    addImage(engines.repo('other.test', 'team/app'), 'v1', ['b']);
    const run = await createSetRun(
      store,
      setDocument({ additionalImages: [{ name: `${SRC}/team/app:v1` }, { name: 'other.test/team/app:v1' }] }),
    );
    expect((await tasks.preflight(run.runId)).indexes).toEqual([0]);
    expect(store.image(run.runId, 1)).toMatchObject({
      status: 'failed',
      message: `${SRC}/team/app:v1 is mirrored to the same destination`,
    });
  });
});

describe('a prune run', () => {
  /** A destination that holds 1.0.0 … 1.3.0 of team/app and a set that keeps the latest two. */
  function pruneFixture() {
    const h = harness();
    const src = h.engines.repo(SRC, 'team/app');
    const dst = h.engines.repo(DST, 'mirror/team/app');
    const digests: Record<string, Digest> = {};
    for (const tag of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      addImage(src, tag, [tag]);
      digests[tag] = parseDigest(addImage(dst, tag, [tag]));
    }
    const set = setDocument({ repositories: [{ name: `${SRC}/team/app`, tags: { semver: '>=1', latest: 2 } }] });
    return { ...h, src, dst, digests, set };
  }

  it('is a dry run by default: the fallen-out tags are reported would-delete and nothing is deleted', async () => {
    const { store, tasks, dst, digests, set } = pruneFixture();
    const run = await createSetRun(store, set, { action: 'prune', dryRun: true });
    expect(await tasks.preflight(run.runId)).toEqual({ proceed: false, indexes: [], failFast: false });
    await tasks.finish(run.runId);
    const images = await store.listImages(run.runId);
    expect(images.map((i) => [i.destination, i.digest, imageView(i).status])).toEqual([
      [`${DST}/mirror/team/app:1.0.0`, digests['1.0.0'], 'would-delete'],
      [`${DST}/mirror/team/app:1.1.0`, digests['1.1.0'], 'would-delete'],
    ]);
    expect(dst.count('deleteManifest')).toBe(0);
    expect(await store.getRun(run.runId)).toMatchObject({
      status: 'completed',
      message: 'prune (dry run): 2 tags would be deleted',
    });
  });

  it('deletes exactly the fallen-out tags, and keeps a tag that moved after the plan', async () => {
    const { store, tasks, dst, digests, set } = pruneFixture();
    const moved = digests['1.3.0']!;
    let heads = 0;
    dst.faults.before = (call) => {
      // 1.0.0 is HEADed once by the plan, then again before its delete: it moves in between.
      if (call.op === 'headManifest' && call.target === '1.0.0' && ++heads === 2) dst.tags.set('1.0.0', moved);
    };
    const run = await createSetRun(store, set, { action: 'prune', dryRun: false });
    await tasks.preflight(run.runId);
    await tasks.finish(run.runId);
    expect([...dst.tags.keys()].sort()).toEqual(['1.0.0', '1.2.0', '1.3.0']);
    expect(dst.calls.filter((c) => c.op === 'deleteManifest').map((c) => c.target)).toEqual([digests['1.1.0']]);
    const images = await store.listImages(run.runId);
    expect(images.map((i) => [i.destination, imageView(i).status, i.message])).toEqual([
      [`${DST}/mirror/team/app:1.0.0`, 'skipped', `tag moved to ${moved}: kept`],
      [`${DST}/mirror/team/app:1.1.0`, 'deleted', `deleted ${digests['1.1.0']}`],
    ]);
    expect(await store.getRun(run.runId)).toMatchObject({
      status: 'completed',
      message: 'prune: 1 tags deleted, 1 skipped (moved or gone), 0 failed',
    });
  });
});
