import { describe, expect, it } from 'vitest';
import { route } from '../../../functions/handlers/api/router.js';
import { silentLogger } from '../../../functions/oci/log.js';
import type { ImagesPage } from '../../../functions/runs/run-reads.js';
import type { RunView } from '../../../functions/runs/run-view.js';
import { RunService } from '../../../functions/runs/service.js';
import { addImage, harness, SRC } from './harness.js';

// Issue 11: the API Lambda writes only the run (and its request); the workflow's Plan writes one
// item per image, once, however often it runs.

describe('a 10,000-image run', () => {
  it('answers 202 having written the run and its request only; Plan writes the images once; the run completes', async () => {
    const h = harness();
    const repo = h.engines.repo(SRC, 'app');
    for (let i = 0; i < 10_000; i++) addImage(repo, `t${i}`, ['one small layer']);
    const service = new RunService({
      store: h.store,
      vault: h.vault,
      workflow: { start: async (runId) => `exec-${runId}`, stop: async () => undefined },
      newId: () => 'big',
    });
    const call = (httpMethod: string, path: string, extra: { body?: string; query?: Record<string, string> } = {}) =>
      route(
        { httpMethod, path, body: extra.body ?? null, queryStringParameters: extra.query ?? null },
        service,
        silentLogger,
      );
    const posted = await call('POST', '/v1/runs', {
      body: JSON.stringify({
        images: Array.from({ length: 10_000 }, (_, i) => `${SRC}/app:t${i}`),
        destination: { registry: 'dst.test', prefix: 'mirror' },
      }),
    });
    expect(posted.statusCode).toBe(202);
    expect(JSON.parse(posted.body)).toMatchObject({ runId: 'big', status: 'in-progress', totalImages: 10_000 });
    expect(h.store.calls.map((c) => c.op)).toEqual(['putRunRequest', 'createRun']);
    expect(h.store.images.get('big')?.size ?? 0).toBe(0);

    // Before Plan the run reads as it always did: every image pending, from the request.
    const early = JSON.parse((await call('GET', '/v1/runs/big/images', { query: { limit: '2' } })).body) as ImagesPage;
    expect(early.images).toEqual([
      { destination: 'dst.test/mirror/app:t0', source: `${SRC}/app:t0`, status: 'pending' },
      { destination: 'dst.test/mirror/app:t1', source: `${SRC}/app:t1`, status: 'pending' },
    ]);

    const plan = await h.tasks.preflight('big');
    expect(plan.proceed).toBe(true);
    expect(plan.indexes).toHaveLength(10_000);
    expect(h.store.images.get('big')!.size).toBe(10_000);
    // A retried Plan (or a resumed run) writes nothing again.
    await h.tasks.copyImage('big', 0);
    await h.tasks.preflight('big');
    expect(h.store.calls.filter((c) => c.op === 'addImages')).toHaveLength(1);
    expect(h.store.image('big', 0).status).toBe('completed');

    for (let i = 1; i < 10_000; i++) await h.tasks.copyImage('big', i);
    expect(await h.tasks.finish('big')).toEqual({ status: 'completed' });
    const view = JSON.parse((await call('GET', '/v1/runs/big')).body) as RunView & { imagesUrl: string };
    expect(view).toMatchObject({
      status: 'completed',
      totalImages: 10_000,
      imagesProcessed: 10_000,
      imagesFailed: 0,
      images: {},
      imagesUrl: '/v1/runs/big/images',
    });
  }, 120_000);

  it('a run cancelled before its Plan wrote the images has them, closed as cancelled', async () => {
    const h = harness();
    const service = new RunService({
      store: h.store,
      vault: h.vault,
      workflow: { start: async (runId) => `exec-${runId}`, stop: async () => undefined },
      newId: () => 'early',
    });
    await service.startRun({ images: [`${SRC}/a:1`, `${SRC}/b:1`], destination: { registry: 'dst.test' } });
    await service.cancelRun('early');
    const images = await h.store.listImages('early');
    expect(images.map((i) => [i.source, i.status])).toEqual([
      [`${SRC}/a:1`, 'failed'],
      [`${SRC}/b:1`, 'failed'],
    ]);
    // Its Plan, if it still runs, changes nothing.
    expect((await h.tasks.preflight('early')).proceed).toBe(false);
    expect(h.store.calls.filter((c) => c.op === 'addImages')).toHaveLength(1);
  });
});
