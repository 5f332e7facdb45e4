import { describe, expect, it } from 'vitest';
import { body, images, resultBytes, setup, sixMB } from './fixture.js';

// Issue 11: /mapping and /errors page like /images: a run of ordinary size is one response, a
// larger one is cut before 6 MB with `Link: <…>; rel="next"` and `x-ferry-next-token`.

/** Follows `Link` from `path` to the last page; the pages' bodies and the responses' sizes. */
async function follow(get: ReturnType<typeof setup>['get'], path: string, query: Record<string, string> = {}) {
  const bodies: string[] = [];
  const sizes: number[] = [];
  let next: Record<string, string> | undefined = query;
  while (next !== undefined) {
    const res = await get(path, next);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    bodies.push(res.body);
    sizes.push(resultBytes(res));
    const link = res.headers.link;
    if (link === undefined) {
      expect(res.headers).not.toHaveProperty('x-ferry-next-token');
      next = undefined;
    } else {
      const match = /^<([^?>]+)\?([^>]+)>; rel="next"$/.exec(link);
      expect(match?.[1]).toBe(path);
      next = Object.fromEntries(new URLSearchParams(match![2]!));
      expect(next.nextToken).toBe(res.headers['x-ferry-next-token']);
    }
  }
  return { bodies, sizes };
}

describe('GET /v1/runs/{id}/mapping and /errors', () => {
  it('answers a run of ordinary size in one response, as before', async () => {
    const { get, putRun } = setup();
    await putRun(
      'small',
      images(3, (i) => (i === 1 ? { status: 'failed', message: 'gone' } : {})),
    );
    const mapping = await get('/v1/runs/small/mapping');
    expect(mapping.body).toBe(
      images(3)
        .map((i) => `${i.source}=${i.destination}\n`)
        .join(''),
    );
    expect(mapping.headers).not.toHaveProperty('link');
    const errors = await get('/v1/runs/small/errors');
    expect(errors.body).toBe('error mirroring image src.example/app:1 error: gone\n');
  });

  it('pages a mapping larger than one response: every page under 6 MB, together the whole mapping', async () => {
    const { get, putRun } = setup();
    const path = `team/${'p'.repeat(1_500)}`;
    const specs = images(4_000, (i) => ({
      source: `src.example/${path}:${i}`,
      destination: `dst.example/mirror/${path}:${i}`,
    }));
    await putRun('huge', specs);
    const whole = specs.map((i) => `${i.source}=${i.destination}\n`).join('');
    expect(Buffer.byteLength(whole)).toBeGreaterThan(sixMB); // what one response could not carry
    const { bodies, sizes } = await follow(get, '/v1/runs/huge/mapping');
    expect(bodies.length).toBeGreaterThan(1);
    expect(bodies.join('')).toBe(whole);
    for (const size of sizes) expect(size).toBeLessThan(sixMB);
  });

  it('takes a limit (lines per page), kept in the Link; pages /errors by the failed images only', async () => {
    const { get, putRun } = setup();
    await putRun(
      'some',
      images(50, (i) => (i % 10 === 3 ? { status: 'failed', message: `m${i}` } : {})),
    );
    const mapping = await follow(get, '/v1/runs/some/mapping', { limit: '20' });
    expect(mapping.bodies.map((b) => b.split('\n').length - 1)).toEqual([20, 20, 10]);
    const errors = await follow(get, '/v1/runs/some/errors', { limit: '2' });
    expect(errors.bodies.join('')).toBe(
      [3, 13, 23, 33, 43].map((i) => `error mirroring image src.example/app:${i} error: m${i}\n`).join(''),
    );
    expect(errors.bodies).toHaveLength(3);
    const bad = await get('/v1/runs/some/mapping', { limit: '0' });
    expect(bad.statusCode).toBe(400);
    expect(body(bad)).toEqual({ message: 'limit: must be an integer from 1 to 100000' });
  });

  it('refuses, with a 422 saying where to read instead, a one-document output larger than a response', async () => {
    const { get, putRun } = setup();
    // 16,000 repositories with long names (a name has at most 255 characters): an
    // ImageTagMirrorSet with one entry each passes 6 MB.
    await putRun(
      'wide',
      images(16_000, (i) => ({
        source: `src.example/${'r'.repeat(200)}${i}:1`,
        destination: `dst.example/m/${'r'.repeat(200)}${i}:1`,
      })),
    );
    const res = await get('/v1/runs/wide/itms');
    expect(res.statusCode).toBe(422);
    expect(body<{ message: string }>(res).message).toMatch(
      /^\/v1\/runs\/wide\/itms: the response would be \d+ bytes, more than the API returns in one response \(6291456\); page the run's images with GET \/v1\/runs\/wide\/images or use the CLI$/,
    );
  });
});
