import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { buildImage, push, Rng } from '../support/fixtures.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

// Issue 11 through `ferry serve` (in-process, dynalite, the synthesized workflow) and real
// registries: a run's images, paged and filtered by status, and its mapping, paged with Link.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1111);
const ns = `pages/${rng.int(1e9)}`;
const prefix = `paged${rng.int(1e9)}`;
const tags = Array.from({ length: 24 }, (_, i) => `t${i}`);

let server: RunningServer;
let run: RunView;

beforeAll(async () => {
  server = await startService();
  const image = buildImage({ layers: [rng.bytes(2_000)] });
  for (const tag of tags) await push(src.url, `${ns}/app`, tag, image);
  const started = await api(server.url, 'POST', '/v1/runs', {
    images: [...tags.map((t) => `${src.host}/${ns}/app:${t}`), `${src.host}/${ns}/missing:1`],
    destination: { registry: dst.host, prefix },
  });
  expect(started.status, started.text).toBe(202);
  run = await waitForRun(server.url, (started.json as RunView).runId);
}, 120_000);
afterAll(() => server?.close());

interface Page {
  images: { destination: string; source: string; status: string; message?: string }[];
  nextToken?: string;
}

describe('a run read page by page through ferry serve', () => {
  it('pages the images in order and filters them by status', async () => {
    expect(run).toMatchObject({ status: 'failed', totalImages: 25, imagesProcessed: 25, imagesFailed: 1 });
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '10', ...(nextToken ? { nextToken } : {}) });
      const res = await api(server.url, 'GET', `/v1/runs/${run.runId}/images?${query.toString()}`);
      expect(res.status, res.text).toBe(200);
      const page = res.json as Page;
      seen.push(...page.images.map((i) => i.source));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual([...tags.map((t) => `${src.host}/${ns}/app:${t}`), `${src.host}/${ns}/missing:1`]);
    const failed = (await api(server.url, 'GET', `/v1/runs/${run.runId}/images?status=failed`)).json as Page;
    expect(failed.images.map((i) => [i.source, i.status])).toEqual([[`${src.host}/${ns}/missing:1`, 'failed']]);
    const completed = (await api(server.url, 'GET', `/v1/runs/${run.runId}/images?status=completed&limit=1000`))
      .json as Page;
    expect(completed.images).toHaveLength(24);
    const bad = await api(server.url, 'GET', `/v1/runs/${run.runId}/images?status=ok`);
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/^status: /);
  });

  it('pages the mapping with a Link header a curl user follows', async () => {
    const lines: string[] = [];
    let path: string | undefined = `/v1/runs/${run.runId}/mapping?limit=10`;
    let pages = 0;
    while (path !== undefined) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      lines.push(...(await res.text()).split('\n').filter((l) => l !== ''));
      pages++;
      path = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
    }
    expect(pages).toBe(3);
    expect(lines).toHaveLength(25);
    expect(lines[0]).toBe(`${src.host}/${ns}/app:t0=${dst.host}/${prefix}/${ns}/app:t0`);
    // Without a limit, a run of this size is one response, as before.
    const whole = await fetch(`${server.url}/v1/runs/${run.runId}/mapping`);
    expect(whole.headers.get('link')).toBeNull();
    expect((await whole.text()).split('\n').filter((l) => l !== '')).toEqual(lines);
  });
});
