import { describe, expect, it } from 'vitest';
import type { ImagesPage } from '../../../functions/runs/run-reads.js';
import type { RunView } from '../../../functions/runs/run-view.js';
import { body, images, resultBytes, setup, sixMB } from './fixture.js';

// Issue 11, "Runs of 100,000 images": GET /v1/runs/{id}/images pages a run's images, and
// GET /v1/runs/{id} keeps its pinned shape up to 1,000 images, pointing at imagesUrl beyond.

/** Every page of `/images` with `query`, following nextToken. */
async function allPages(get: ReturnType<typeof setup>['get'], runId: string, query: Record<string, string> = {}) {
  const pages: ImagesPage[] = [];
  let nextToken: string | undefined;
  do {
    const res = await get(`/v1/runs/${runId}/images`, { ...query, ...(nextToken ? { nextToken } : {}) });
    expect(res.statusCode).toBe(200);
    const page = body<ImagesPage>(res);
    pages.push(page);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return pages;
}

describe('GET /v1/runs/{id}/images', () => {
  it('pages the images in order: 100 by default, limit up to 1,000, a nextToken until the last page', async () => {
    const { get, putRun } = setup();
    await putRun('big', images(250));
    const pages = await allPages(get, 'big');
    expect(pages.map((p) => p.images.length)).toEqual([100, 100, 50]);
    expect(pages.flatMap((p) => p.images.map((i) => i.destination))).toEqual(images(250).map((i) => i.destination));
    expect(pages[0]!.images[0]).toEqual({
      destination: 'dst.example/mirror/app:0',
      source: 'src.example/app:0',
      status: 'completed',
    });
    const whole = body<ImagesPage>(await get('/v1/runs/big/images', { limit: '1000' }));
    expect(whole.images).toHaveLength(250);
    expect(whole.nextToken).toBeUndefined();
  });

  it('filters by status, paging within the filter', async () => {
    const { get, putRun } = setup();
    await putRun(
      'mixed',
      images(300, (i) => (i % 7 === 0 ? { status: 'failed', message: `bad ${i}` } : {})),
    );
    const pages = await allPages(get, 'mixed', { status: 'failed', limit: '10' });
    const failed = pages.flatMap((p) => p.images);
    expect(failed.map((i) => i.source)).toEqual(
      images(300)
        .filter((_, i) => i % 7 === 0)
        .map((i) => i.source),
    );
    expect(failed.every((i) => i.status === 'failed')).toBe(true);
    expect(pages).toHaveLength(5);
  });

  it.each([
    [{ limit: '0' }, 'limit: must be an integer from 1 to 1000'],
    [{ limit: '1001' }, 'limit: must be an integer from 1 to 1000'],
    [{ limit: 'ten' }, 'limit: must be an integer from 1 to 1000'],
    [{ status: 'done' }, 'status: must be one of pending, in-progress, completed, skipped, failed'],
  ])('refuses %j with a 400 naming the field', async (query, message) => {
    const { get, putRun } = setup();
    await putRun('r', images(3));
    const res = await get('/v1/runs/r/images', query);
    expect(res.statusCode).toBe(400);
    expect(body(res)).toEqual({ message });
  });

  it('refuses a nextToken that was tampered with, or issued for another run, listing or status', async () => {
    const { get, putRun } = setup();
    await putRun('a', images(30));
    await putRun('b', images(30));
    const token = body<ImagesPage>(await get('/v1/runs/a/images', { limit: '10' })).nextToken!;
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...decoded, a: -1 })).toString('base64url');
    for (const [path, query] of [
      ['/v1/runs/b/images', { nextToken: token }],
      ['/v1/runs/a/images', { nextToken: token, status: 'failed' }],
      ['/v1/runs/a/mapping', { nextToken: token }],
      ['/v1/runs/a/images', { nextToken: forged }],
      ['/v1/runs/a/images', { nextToken: 'not-a-token' }],
    ] as const) {
      const res = await get(path, query);
      expect(res.statusCode, `${path} ${JSON.stringify(query)}`).toBe(400);
      expect(body<{ message: string }>(res).message).toMatch(/^nextToken: /);
    }
    expect((await get('/v1/runs/nope/images')).statusCode).toBe(404);
  });
});

describe('GET /v1/runs/{id} for large runs', () => {
  it('lists 1,000 images inline; beyond, the counts, an empty images and imagesUrl', async () => {
    const { get, putRun, store } = setup();
    await putRun('thousand', images(1000));
    const inline = body<RunView>(await get('/v1/runs/thousand'));
    expect(Object.keys(inline.images!)).toHaveLength(1000);
    expect(inline).not.toHaveProperty('imagesUrl');
    const run = await putRun(
      'more',
      images(1001, (i) => (i === 5 ? { status: 'failed' } : {})),
    );
    store.runs.set('more', { ...run, imagesProcessed: 1001, imagesFailed: 1, bytesCopied: 7 });
    const res = await get('/v1/runs/more');
    expect(res.statusCode).toBe(200);
    expect(body(res)).toMatchObject({
      runId: 'more',
      totalImages: 1001,
      imagesProcessed: 1001,
      imagesFailed: 1,
      bytesCopied: 7,
      images: {},
      imagesUrl: '/v1/runs/more/images',
    });
  });

  it('stays under 6 MB with 1,000 images carrying the longest message Ferry keeps', async () => {
    const { get, putRun, store } = setup();
    const long = 'x'.repeat(50_000);
    await putRun(
      'loud',
      images(1000, () => ({ status: 'in-progress' })),
    );
    for (let i = 0; i < 1000; i++) await store.finishImage('loud', i, { status: 'failed', message: long });
    const kept = store.image('loud', 0).message!;
    expect(kept.length).toBe(2000); // the cap, `…` included
    expect(kept.endsWith('…')).toBe(true);
    const res = await get('/v1/runs/loud');
    const view = body<RunView>(res);
    expect(Object.keys(view.images!)).toHaveLength(1000);
    expect(view.images!['dst.example/mirror/app:0']!.message).toBe(kept);
    expect(resultBytes(res)).toBeLessThan(sixMB);
    const page = await get('/v1/runs/loud/images', { limit: '1000' });
    expect(body<ImagesPage>(page).images).toHaveLength(1000);
    expect(resultBytes(page)).toBeLessThan(sixMB);
  });

  it('never passes 6 MB: the longest references and messages that escape twice fall back to imagesUrl and short pages', async () => {
    const { get, putRun, store } = setup();
    // Every character of these messages is escaped in the body and again in the Lambda's result.
    const escaping = '"\\'.repeat(5_000);
    const path = `team/${'a'.repeat(1_900)}`;
    await putRun(
      'worst',
      images(1000, (i) => ({
        status: 'in-progress',
        source: `src.example/${path}:${i}`,
        destination: `dst.example/${'m'.repeat(200)}/${path}:${i}`,
      })),
    );
    for (let i = 0; i < 1000; i++) await store.finishImage('worst', i, { status: 'failed', message: escaping });
    const res = await get('/v1/runs/worst');
    expect(res.statusCode).toBe(200);
    expect(resultBytes(res)).toBeLessThan(sixMB);
    expect(body(res)).toMatchObject({ images: {}, imagesUrl: '/v1/runs/worst/images' });
    const pages = await allPages(get, 'worst', { limit: '1000' });
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((p) => p.images)).toHaveLength(1000);
    for (const page of pages)
      expect(resultBytes({ statusCode: 200, headers: {}, body: JSON.stringify(page) })).toBeLessThan(sixMB);
  });
});
