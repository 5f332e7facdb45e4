import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatCatalogSource, formatClusterCatalog } from '../../../functions/mirror/operators/cluster-resources.js';
import { catalogsNotRebuilt } from '../../../functions/runs/catalog-items.js';
import { catalogFixtureConfig, catalogFixtureLayer, catalogFixtureRepository } from '../../support/catalog-fixture.js';
import { type BuiltManifest, buildImage, buildIndex, sha256 } from '../../support/fixtures.js';
import { storeBuilt, tarLayer } from '../../support/release-fixture.js';
import { digestOf } from '../../../functions/oci/digest.js';
import { fetchChart } from '../../../functions/runs/chart-items.js';
import { RunOutputs } from '../../../functions/runs/run-outputs.js';
import { chartTgz, indexYaml, sha256Hex } from '../../support/helm-fixture.js';
import { addImage, createSetRun, DST, harness, type Harness, setDocument, SRC } from './harness.js';

// Issue 10 through the API's runs: a set's charts become items the Map pushes (re-fetched and
// checked against the sha256 Plan recorded), its rebuilt catalogs items Finish pushes.

const repo = 'https://charts.test/stable';

/** A chart `web` 1.0.0 naming SRC/team/web:1.0 in its values, served by the engines at `${repo}`. */
async function webChart(h: Harness): Promise<{ tgz: Buffer; url: string; image: string }> {
  const tgz = await chartTgz({
    dir: 'web',
    files: {
      'Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n',
      'values.yaml': `image: ${SRC}/team/web:1.0\n`,
    },
  });
  const url = `${repo}/web-1.0.0.tgz`;
  h.engines.files.set(
    `${repo}/index.yaml`,
    Buffer.from(indexYaml([{ name: 'web', version: '1.0.0', urls: ['web-1.0.0.tgz'], digest: sha256Hex(tgz) }])),
  );
  h.engines.files.set(url, tgz);
  const image = addImage(h.engines.repo(SRC, 'team/web'), '1.0', ['web']);
  return { tgz, url, image };
}

const helmSet = setDocument({
  helm: { repositories: [{ name: 'stable', url: repo, charts: [{ name: 'web', version: '1.0.0' }] }] },
});

describe('a run of a set with mirror.helm', () => {
  it('plans the chart as an item after its images, the Map pushes it, the mirror sets leave it out', async () => {
    const h = harness();
    const { tgz, url, image } = await webChart(h);
    const run = await createSetRun(h.store, helmSet);
    const found = await h.tasks.preflight(run.runId);
    const items = await h.store.listImages(run.runId);
    expect(items.map((i) => [i.source, i.destination, i.status, i.artifact])).toEqual([
      [`${SRC}/team/web:1.0`, `${DST}/mirror/team/web:1.0`, 'pending', undefined],
      [
        url,
        `${DST}/mirror/web:1.0.0`,
        'pending',
        { kind: 'chart', url, sha256: digestOf(tgz), name: 'web', version: '1.0.0' },
      ],
    ]);
    expect(found).toEqual({ proceed: true, indexes: [0, 1], failFast: false });

    const gets = h.engines.gets.length;
    for (const index of found.indexes) await h.tasks.copyImage(run.runId, index);
    expect(h.engines.gets.slice(gets)).toEqual([url]); // the chart is fetched again, not stored
    await h.tasks.finish(run.runId);
    const dst = h.engines.repo(DST, 'mirror/web');
    const chartDigest = dst.tags.get('1.0.0');
    expect(chartDigest).toBeDefined();
    const manifest = dst.manifests.get(chartDigest!);
    expect(manifest?.kind === 'image' ? manifest.image.layers.map((l) => l.digest) : []).toEqual([digestOf(tgz)]);
    const done = await h.store.listImages(run.runId);
    expect(done.map((i) => [i.status, i.digest])).toEqual([
      ['completed', image],
      ['completed', chartDigest],
    ]);
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'completed', imagesFailed: 0 });
    // The CLI's mirror sets name images only: the chart is no image mirror.
    const idms = await new RunOutputs(h.store).clusterResources(run.runId);
    expect(idms).not.toContain('charts.test');
    expect(idms).not.toContain('mirror/web');
  });

  it('a chart whose bytes changed since Plan fails its item, and nothing is pushed', async () => {
    const h = harness();
    const { url } = await webChart(h);
    const run = await createSetRun(h.store, helmSet);
    const found = await h.tasks.preflight(run.runId);
    h.engines.files.set(url, await chartTgz({ dir: 'web', files: { 'Chart.yaml': 'name: web\nversion: 1.0.0\n' } }));
    expect(await h.tasks.copyImage(run.runId, 1)).toEqual({ status: 'failed' });
    expect(found.indexes).toContain(1);
    const item = (await h.store.listImages(run.runId))[1]!;
    expect(item.status).toBe('failed');
    if (item.artifact?.kind !== 'chart') throw new Error('no chart item');
    const engine = h.engines.forRun(run);
    await expect(fetchChart(engine, item, item.artifact)).rejects.toMatchObject({
      name: 'HelmError',
      code: 'HELM_DIGEST_MISMATCH',
    });
    expect(h.engines.repo(DST, 'mirror/web').tags.size).toBe(0);
  });

  it('a second push of the same chart finds it up to date', async () => {
    const h = harness();
    await webChart(h);
    const first = await createSetRun(h.store, helmSet);
    await h.tasks.preflight(first.runId);
    expect(await h.tasks.copyImage(first.runId, 1)).toEqual({ status: 'completed' });
    const again = await createSetRun(h.store, helmSet);
    await h.tasks.preflight(again.runId);
    expect(await h.tasks.copyImage(again.runId, 1)).toEqual({ status: 'skipped' });
  });
});

/** The fixture catalog at SRC/acme/index:v1 (two platforms), every image it names in SRC/acme/… tagged by fixture name. */
async function catalog(h: Harness): Promise<BuiltManifest> {
  const host = `${SRC}/acme`;
  const digestFor = (name: string): string =>
    addImage(h.engines.repo(SRC, `acme/${catalogFixtureRepository(name)}`), name.replaceAll('+', '_'), [name]);
  const layer = await catalogFixtureLayer(host, digestFor);
  const base = await tarLayer([{ name: 'bin/opm', data: 'opm' }]);
  const diffIds = [sha256(gunzipSync(base)), layer.diffId];
  const image = (architecture: string): BuiltManifest => {
    const cfg = JSON.parse(catalogFixtureConfig(diffIds).toString()) as object;
    return buildImage({ layers: [base, layer.bytes], config: Buffer.from(JSON.stringify({ ...cfg, architecture })) });
  };
  const built = buildIndex([
    { image: image('amd64'), platform: { os: 'linux', architecture: 'amd64' } },
    { image: image('arm64'), platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  storeBuilt(h.engines.repo(SRC, 'acme/index'), built, 'v1');
  return built;
}

const operatorSet = setDocument({
  operators: [{ catalog: `${SRC}/acme/index:v1`, packages: [{ name: 'gamma-operator' }] }],
});

describe('a run of a set with mirror.operators', () => {
  it('records the catalog outside the Map; Finish rebuilds and pushes it after the images; /cluster-resources names it', async () => {
    const h = harness();
    const built = await catalog(h);
    const run = await createSetRun(h.store, operatorSet);
    const found = await h.tasks.preflight(run.runId);
    const items = await h.store.listImages(run.runId);
    const gamma = items.filter((i) => i.artifact === undefined);
    expect(gamma.map((i) => i.destination.replace(/@.*/, ''))).toEqual([
      `${DST}/mirror/acme/gamma-operator/bundle`,
      `${DST}/mirror/acme/gamma-operator/operator`,
    ]);
    const last = items.at(-1)!;
    expect([last.source, last.destination, last.status, last.artifact]).toEqual([
      `${SRC}/acme/index@${built.digest}`,
      `${DST}/mirror/acme/index:v1`,
      'pending',
      { kind: 'catalog', operator: 0, sourceDigest: `${SRC}/acme/index@${built.digest}` },
    ]);
    expect(found.indexes).toEqual(gamma.map((i) => i.index)); // the catalog is not the Map's

    for (const index of found.indexes)
      expect(await h.tasks.copyImage(run.runId, index)).toEqual({ status: 'completed' });
    expect(h.engines.repo(DST, 'mirror/acme/index').tags.size).toBe(0); // nothing before Finish
    await h.tasks.finish(run.runId);
    const dst = h.engines.repo(DST, 'mirror/acme/index');
    const rebuilt = dst.tags.get('v1');
    expect(rebuilt).toBeDefined();
    expect(rebuilt).not.toBe(built.digest);
    expect(dst.manifests.has(built.digest)).toBe(true); // the original, copied by digest first
    const done = (await h.store.listImages(run.runId)).at(-1)!;
    expect([done.status, done.digest]).toEqual(['completed', rebuilt]);
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'completed', imagesFailed: 0 });

    const yaml = await new RunOutputs(h.store).clusterResources(run.runId);
    const image = `${DST}/mirror/acme/index:v1@${rebuilt}`;
    expect(yaml).toContain(`---\n${formatCatalogSource(image).yaml}`);
    expect(yaml).toContain(`---\n${formatClusterCatalog(image).yaml}`);
    expect(yaml).not.toContain(`${SRC}/acme/index`); // the catalog is no image mirror
  });

  it('an image that failed leaves the catalog not rebuilt, and nothing is pushed', async () => {
    const h = harness();
    await catalog(h);
    const run = await createSetRun(h.store, operatorSet);
    const found = await h.tasks.preflight(run.runId);
    await h.tasks.recordFailure(run.runId, found.indexes[0]!, 'boom');
    for (const index of found.indexes.slice(1)) await h.tasks.copyImage(run.runId, index);
    await h.tasks.finish(run.runId);
    const last = (await h.store.listImages(run.runId)).at(-1)!;
    expect([last.status, last.message]).toEqual(['failed', catalogsNotRebuilt]);
    expect(h.engines.repo(DST, 'mirror/acme/index').tags.size).toBe(0);
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'failed', imagesFailed: 2 });
  });
});

describe('a dry run of a set with operators and helm', () => {
  it('plans the chart as the CLI plans it, names the catalog, and pushes nothing', async () => {
    const h = harness();
    const { tgz, url } = await webChart(h);
    await catalog(h);
    const both = setDocument({
      operators: [{ catalog: `${SRC}/acme/index:v1`, packages: [{ name: 'gamma-operator' }] }],
      helm: { repositories: [{ name: 'stable', url: repo, charts: [{ name: 'web', version: '1.0.0' }] }] },
    });
    const run = await createSetRun(h.store, both, { dryRun: true });
    const found = await h.tasks.preflight(run.runId);
    for (const index of found.indexes) await h.tasks.copyImage(run.runId, index);
    await h.tasks.finish(run.runId);
    const plan = await new RunOutputs(h.store).plan(run.runId);
    const chart = plan.images.find((i) => i.source === url);
    expect(chart).toMatchObject({
      destination: `${DST}/mirror/web:1.0.0`,
      action: 'copy',
      blobs: { copy: 2, mount: 0, present: 0 },
    });
    expect(chart?.bytes).toBeGreaterThan(tgz.length);
    const last = (await h.store.listImages(run.runId)).at(-1)!;
    expect([last.artifact?.kind, last.status]).toEqual(['catalog', 'skipped']);
    expect(plan.images.map((i) => i.destination)).not.toContain(last.destination);
    expect(h.engines.repo(DST, 'mirror/web').tags.size).toBe(0);
    expect(h.engines.repo(DST, 'mirror/acme/index').tags.size).toBe(0);
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'completed', imagesFailed: 0 });
  });
});
