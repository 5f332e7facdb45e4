import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { buildImage, type BuiltManifest, push, remoteDigest, Rng } from '../support/fixtures.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { api, type RunView, waitForRun } from '../support/service.js';

// Issue 9, "Pinned: API": a run's /plan, /idms, /itms and /errors through the real `ferry serve`
// command (dist/ and bin/ferry.js: `npm run build` first) against real docker-registry processes.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 29);
const ns = `outputs/${rng.int(1e9)}`;
const prefix = `mirrored${rng.int(1e9)}`;

let serve: ServeProcess;
const shared = rng.bytes(20_000);
/** In the destination before any run: its layer is `present` for the app images. */
const seeded = buildImage({ layers: [shared] });
const appV1 = buildImage({ layers: [shared, rng.bytes(11_000)] });
const appV2 = buildImage({ layers: [shared, rng.bytes(12_000)] });
const tool = buildImage({ layers: [rng.bytes(13_000)] });

const source = {
  v1: `${src.host}/${ns}/app:v1`,
  v2: `${src.host}/${ns}/app:v2`,
  tool: `${src.host}/${ns}/tool@${tool.digest}`,
};
const destination = (ref: string): string => ref.replace(`${src.host}/`, `${dst.host}/${prefix}/`);
const images = [source.v1, source.v2, source.tool];

beforeAll(async () => {
  serve = await startServeProcess(['--data-dir', mkdtempSync(join(tmpdir(), 'ferry-outputs-'))]);
  await push(src.url, `${ns}/app`, 'v1', appV1);
  await push(src.url, `${ns}/app`, 'v2', appV2);
  await push(src.url, `${ns}/tool`, 'pushed', tool);
  await push(dst.url, `${prefix}/${ns}/app`, 'v0', seeded);
});
afterAll(async () => {
  await serve?.stop();
});

async function startRun(body: Record<string, unknown>): Promise<RunView> {
  const started = await api(serve.url, 'POST', '/v1/runs', {
    destination: { registry: dst.host, prefix },
    ...body,
  });
  expect(started.status, started.text).toBe(202);
  return waitForRun(serve.url, (started.json as RunView).runId);
}

/** The destination under our prefix as a client sees it: repositories, their tags, and which of our blobs each holds. */
async function destinationState(): Promise<string> {
  const res = await fetch(`${dst.url}/v2/_catalog?n=1000&last=${prefix}`);
  const catalog = ((await res.json()) as { repositories: string[] }).repositories.filter((r) =>
    r.startsWith(`${prefix}/`),
  );
  const blobs = [...new Set([seeded, appV1, appV2, tool].flatMap((m) => m.blobs.map((b) => b.digest)))];
  const state = await Promise.all(
    [`${prefix}/${ns}/app`, `${prefix}/${ns}/tool`].map(async (repository) => {
      const tags = await fetch(`${dst.url}/v2/${repository}/tags/list`);
      const held = await Promise.all(
        blobs.map(
          async (digest) => (await fetch(`${dst.url}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' })).status,
        ),
      );
      return { repository, tags: tags.status === 200 ? await tags.json() : tags.status, held };
    }),
  );
  return JSON.stringify({ catalog, state });
}

const size = (blobs: BuiltManifest['blobs']): number => blobs.reduce((n, b) => n + b.size, 0);

describe('run outputs over ferry serve', () => {
  it('a dry run writes nothing to the destination and GET /plan is the exact plan', async () => {
    const before = await destinationState();
    const run = await startRun({ images, dryRun: true });
    expect(run.status).toBe('completed');
    expect(await destinationState()).toBe(before);
    // The shared layer is in the destination repository already (the seeded v0); the rest streams.
    const appPlan = (ref: string, manifest: BuiltManifest) => {
      const streamed = manifest.blobs.filter((b) => !b.data.equals(shared));
      return {
        source: ref,
        destination: destination(ref),
        digest: manifest.digest,
        action: 'copy',
        blobs: { copy: streamed.length, mount: 0, present: manifest.blobs.length - streamed.length },
        bytes: size(streamed),
      };
    };
    const expected = [
      appPlan(source.v1, appV1),
      appPlan(source.v2, appV2),
      {
        source: source.tool,
        destination: destination(source.tool),
        digest: tool.digest,
        action: 'copy',
        blobs: { copy: tool.blobs.length, mount: 0, present: 0 },
        bytes: size(tool.blobs),
      },
    ];
    const plan = await api(serve.url, 'GET', `/v1/runs/${run.runId}/plan`);
    expect(plan.status).toBe(200);
    expect(plan.json).toEqual({
      images: expected,
      totals: { images: 3, copy: 3, upToDate: 0, bytes: expected.reduce((n, i) => n + i.bytes, 0) },
      // One GET per image: the up-to-date check is a HEAD, every blob's a HEAD.
      sourceManifestGets: 3,
    });
    // Every blob counted is one of the fixture's: copy + present is the manifest's blob count.
    expect(expected.map((i) => i.blobs.copy + i.blobs.present)).toEqual(
      [appV1, appV2, tool].map((m) => m.blobs.length),
    );
    // The run's message keeps its prose summary; the dry run has no mirror set.
    expect(run.message).toMatch(/^dry run: 3 of 3 images would copy/);
    expect((await api(serve.url, 'GET', `/v1/runs/${run.runId}/idms`)).status).toBe(409);
    expect(await api(serve.url, 'GET', `/v1/runs/${run.runId}/errors`)).toMatchObject({ status: 200, text: '' });
  });

  it('a real run: /idms and /itms parse as YAML and hold exactly the mirrors, by digest and by tag', async () => {
    const run = await startRun({ images });
    expect(run.status).toBe('completed');
    expect(await remoteDigest(dst.url, `${prefix}/${ns}/app`, 'v1')).toBe(appV1.digest);
    expect(await remoteDigest(dst.url, `${prefix}/${ns}/app`, 'v2')).toBe(appV2.digest);
    expect(await remoteDigest(dst.url, `${prefix}/${ns}/tool`, tool.digest)).toBe(tool.digest);
    const metadata = (name: string) => ({ name, annotations: { createdBy: 'ferry' } });
    const idms = await api(serve.url, 'GET', `/v1/runs/${run.runId}/idms`);
    expect(idms.status).toBe(200);
    expect(parse(idms.text)).toEqual({
      apiVersion: 'config.openshift.io/v1',
      kind: 'ImageDigestMirrorSet',
      metadata: metadata('idms-generic-0'),
      spec: {
        imageDigestMirrors: [{ source: `${src.host}/${ns}/tool`, mirrors: [`${dst.host}/${prefix}/${ns}/tool`] }],
      },
    });
    const itms = await api(serve.url, 'GET', `/v1/runs/${run.runId}/itms`);
    expect(itms.status).toBe(200);
    expect(parse(itms.text)).toEqual({
      apiVersion: 'config.openshift.io/v1',
      kind: 'ImageTagMirrorSet',
      metadata: metadata('itms-generic-0'),
      spec: { imageTagMirrors: [{ source: `${src.host}/${ns}/app`, mirrors: [`${dst.host}/${prefix}/${ns}/app`] }] },
    });
    expect((await api(serve.url, 'GET', `/v1/runs/${run.runId}/plan`)).status).toBe(409);
    expect(await api(serve.url, 'GET', `/v1/runs/${run.runId}/errors`)).toMatchObject({ status: 200, text: '' });
  });

  it('a dry run after the real one plans every image up to date, from HEADs alone', async () => {
    const run = await startRun({ images, dryRun: true });
    expect(run.status).toBe('completed');
    const mirrored: [string, BuiltManifest][] = [
      [source.v1, appV1],
      [source.v2, appV2],
      [source.tool, tool],
    ];
    const plan = await api(serve.url, 'GET', `/v1/runs/${run.runId}/plan`);
    expect(plan.json).toEqual({
      images: mirrored.map(([ref, manifest]) => ({
        source: ref,
        destination: destination(ref),
        digest: manifest.digest,
        action: 'up-to-date',
        blobs: { copy: 0, mount: 0, present: 0 },
        bytes: 0,
      })),
      totals: { images: 3, copy: 0, upToDate: 3, bytes: 0 },
      // Up to date is decided by a HEAD on the destination: no manifest GET at the source.
      sourceManifestGets: 0,
    });
  });

  it('a run with a missing source: /errors names it, and the mirror sets leave it out', async () => {
    const missing = `${src.host}/${ns}/missing:v1`;
    const run = await startRun({ images: [source.v1, missing] });
    expect(run.status).toBe('failed');
    const cause = run.images[destination(missing)]?.message;
    expect(cause).toBeTruthy();
    const errors = await api(serve.url, 'GET', `/v1/runs/${run.runId}/errors`);
    expect(errors.status).toBe(200);
    expect(errors.text).toBe(`error mirroring image ${missing} error: ${cause}\n`);
    expect((await api(serve.url, 'GET', `/v1/runs/${run.runId}/idms`)).status).toBe(404);
    expect(parse((await api(serve.url, 'GET', `/v1/runs/${run.runId}/itms`)).text)).toMatchObject({
      spec: { imageTagMirrors: [{ source: `${src.host}/${ns}/app`, mirrors: [`${dst.host}/${prefix}/${ns}/app`] }] },
    });
  });
});
