import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import type { Peer } from '../support/scripted-peers.js';
import { pagingFront } from './paging-front.js';
import { type BuiltManifest, buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

// issue 9 "Pinned: API": runs of a stored set (by name) and of an inline document, expanded by
// the workflow's Plan task against real registries; a second run all up to date; prune runs
// (dry by default, then for real) after the policy changed.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 977);
const ns = `sr${rng.int(1e9)}`;
const prefix = `sets${rng.int(1e6)}`;
const appTags = ['1.0.0', '1.1.0', 'v1.2.0', '1.3.0-rc.1', '2.0.0', 'latest'];
const pushed = new Map<string, BuiltManifest>();
let server: RunningServer;
/** The source as the set names it: a front that pages tags/list two tags at a time. */
let front: Peer;
interface MirrorSet {
  spec: { imageDigestMirrors?: unknown[]; imageTagMirrors?: unknown[] };
}
let pinned: string;

const image = (label: string): BuiltManifest =>
  buildImage({ layers: [rng.bytes(512 + rng.int(256))], annotations: { label } });

function config(latest: number) {
  return {
    apiVersion: 'mirror.openshift.io/v2alpha1',
    kind: 'ImageSetConfiguration',
    mirror: {
      additionalImages: [
        { name: `${front.host}/${ns}/extra:1.0` },
        { name: `${front.host}/${ns}/pinned@${pinned}` },
        { name: `${front.host}/${ns}/blocked:1` },
      ],
      blockedImages: [{ name: `${front.host}/${ns}/blocked` }],
      repositories: [{ name: `${front.host}/${ns}/app`, tags: { semver: '>=1.0.0 <2', latest } }],
    },
  };
}

async function startSetRun(body: object): Promise<RunView> {
  const started = await api(server.url, 'POST', '/v1/runs', body);
  expect(started.status).toBe(202);
  return waitForRun(server.url, (started.json as { runId: string }).runId);
}

const statuses = (view: RunView) =>
  Object.fromEntries(Object.entries(view.images).map(([destination, i]) => [destination, i.status]));

async function dstTags(repository: string): Promise<string[]> {
  const res = await fetch(`${dst.url}/v2/${prefix}/${ns}/${repository}/tags/list`);
  if (res.status === 404) return [];
  return (((await res.json()) as { tags: string[] | null }).tags ?? []).sort();
}

beforeAll(async () => {
  for (const tag of appTags) {
    const m = image(`app-${tag}`);
    await push(src.url, `${ns}/app`, tag, m);
    pushed.set(`app:${tag}`, m);
  }
  await push(src.url, `${ns}/extra`, '1.0', image('extra'));
  await push(src.url, `${ns}/blocked`, '1', image('blocked'));
  const p = image('pinned');
  await push(src.url, `${ns}/pinned`, 'x', p);
  pinned = p.digest;
  front = await pagingFront(src.url, { maxPage: 2 });
  server = await startService();
});
afterAll(async () => {
  await server?.close();
  await front?.close();
});

describe('ferry serve: runs of image sets', () => {
  it('a dry run of an inline document writes nothing to the destination', async () => {
    const view = await startSetRun({ config: config(2), destination: { registry: dst.host, prefix }, dryRun: true });
    expect(view).toMatchObject({ status: 'completed', totalImages: 5, imageSet: {} });
    expect(Object.values(view.images).map((i) => i.status)).toEqual(Array(5).fill('skipped'));
    expect(await dstTags('app')).toEqual([]);
    expect(await dstTags('extra')).toEqual([]);
    const plan = await api(server.url, 'GET', `/v1/runs/${view.runId}/plan`);
    expect(plan.status).toBe(200);
    const to = `${dst.host}/${prefix}/${ns}`;
    const { images, totals } = plan.json as {
      images: { destination: string; action: string; digest: string }[];
      totals: Record<string, number>;
    };
    expect(images.map((i) => [i.destination, i.action])).toEqual([
      [`${to}/extra:1.0`, 'copy'],
      [`${to}/pinned@${pinned}`, 'copy'],
      [`${to}/blocked:1`, 'blocked'],
      [`${to}/app:v1.2.0`, 'copy'],
      [`${to}/app:1.1.0`, 'copy'],
    ]);
    expect(images.find((i) => i.destination.endsWith('app:1.1.0'))?.digest).toBe(pushed.get('app:1.1.0')!.digest);
    expect(totals).toMatchObject({ copy: 4, upToDate: 0 });
    // Six tags, two a page: the expansion followed the Link header to the third page.
    expect(front.requests.filter((r) => r.startsWith(`GET /v2/${ns}/app/tags/list`))).toHaveLength(3);
  });

  it('a run by name mirrors exactly what the set selects, by digest; a second run is all up to date', async () => {
    const put = await api(server.url, 'PUT', '/v1/image-sets/web', {
      config: config(2),
      destination: { registry: dst.host, prefix },
    });
    expect(put.status).toBe(200);
    const view = await startSetRun({ imageSet: 'web' });
    const to = `${dst.host}/${prefix}/${ns}`;
    expect(view).toMatchObject({ status: 'completed', totalImages: 5, imageSet: { name: 'web', version: 1 } });
    expect(statuses(view)).toEqual({
      [`${to}/extra:1.0`]: 'completed',
      [`${to}/pinned@${pinned}`]: 'completed',
      [`${to}/blocked:1`]: 'skipped',
      [`${to}/app:v1.2.0`]: 'completed',
      [`${to}/app:1.1.0`]: 'completed',
    });
    expect(view.images[`${to}/blocked:1`]?.message).toBe('blocked');
    expect(await dstTags('app')).toEqual(['1.1.0', 'v1.2.0']);
    expect(await dstTags('blocked')).toEqual([]);
    for (const tag of ['1.1.0', 'v1.2.0'])
      expect(await remoteDigest(dst.url, `${prefix}/${ns}/app`, tag)).toBe(pushed.get(`app:${tag}`)!.digest);
    expect(await remoteDigest(dst.url, `${prefix}/${ns}/pinned`, pinned)).toBe(pinned);
    // The cluster resources: the image by digest in the IDMS, the tags in the ITMS, per source repository.
    const idms = parse((await api(server.url, 'GET', `/v1/runs/${view.runId}/idms`)).text) as MirrorSet;
    expect(idms.spec.imageDigestMirrors).toEqual([{ source: `${front.host}/${ns}/pinned`, mirrors: [`${to}/pinned`] }]);
    const itms = parse((await api(server.url, 'GET', `/v1/runs/${view.runId}/itms`)).text) as MirrorSet;
    expect(itms.spec.imageTagMirrors).toEqual([
      { source: `${front.host}/${ns}/app`, mirrors: [`${to}/app`] },
      { source: `${front.host}/${ns}/extra`, mirrors: [`${to}/extra`] },
    ]);

    const again = await startSetRun({ imageSet: 'web' });
    expect(again).toMatchObject({ status: 'completed', bytesCopied: 0 });
    expect(Object.values(again.images).map((i) => i.message)).toEqual(
      expect.arrayContaining(['blocked', 'destination is up to date']),
    );
    expect(Object.values(again.images).every((i) => i.status === 'skipped')).toBe(true);
  });

  it('prunes what fell out of the policy: a dry run by default, then deletes exactly that tag', async () => {
    // The set (version 2) now keeps the latest one: 1.1.0 falls out.
    expect(
      (
        await api(server.url, 'PUT', '/v1/image-sets/web', {
          config: config(1),
          destination: { registry: dst.host, prefix },
        })
      ).json,
    ).toMatchObject({ version: 2 });
    const to = `${dst.host}/${prefix}/${ns}`;
    const dry = await startSetRun({ imageSet: 'web', action: 'prune' });
    expect(dry).toMatchObject({ status: 'completed', action: 'prune', imageSet: { name: 'web', version: 2 } });
    expect(statuses(dry)).toEqual({ [`${to}/app:1.1.0`]: 'would-delete' });
    expect(dry.images[`${to}/app:1.1.0`]?.digest).toBe(pushed.get('app:1.1.0')!.digest);
    expect(await dstTags('app')).toEqual(['1.1.0', 'v1.2.0']);

    const real = await startSetRun({ imageSet: 'web', action: 'prune', dryRun: false });
    expect(statuses(real)).toEqual({ [`${to}/app:1.1.0`]: 'deleted' });
    expect(await dstTags('app')).toEqual(['v1.2.0']);
    expect(await remoteDigest(dst.url, `${prefix}/${ns}/app`, 'v1.2.0')).toBe(pushed.get('app:v1.2.0')!.digest);
    expect(await dstTags('extra')).toEqual(['1.0']);
  });

  it('answers a run of an unknown set, or of an invalid document, with a 400 naming the field', async () => {
    const unknown = await api(server.url, 'POST', '/v1/runs', {
      imageSet: 'nope',
      destination: { registry: dst.host },
    });
    expect([unknown.status, (unknown.json as { message: string }).message]).toEqual([
      400,
      'imageSet: there is no image set named nope',
    ]);
    const bad = await api(server.url, 'POST', '/v1/runs', {
      config: { ...config(1), mirror: { repositories: [{ name: `${front.host}/${ns}/app`, tags: { lastest: 1 } }] } },
      destination: { registry: dst.host },
    });
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/^config\.mirror\.repositories\[0\]\.tags/);
  });
});
