import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../functions/oci/digest.js';
import { fetchChart } from '../../../functions/runs/chart-items.js';
import type { RunOptions, RunRecord } from '../../../functions/runs/model.js';
import { RunOutputs } from '../../../functions/runs/run-outputs.js';
import { chartTgz, indexYaml, sha256Hex } from '../../support/helm-fixture.js';
import type { MemoryRunStore } from '../../support/memory-run-store.js';
import { inProgressRun } from '../../support/run-records.js';
import { addImage, DST, harness, type Harness, SRC } from './harness.js';

// Issue 10 through the API's runs: a set's charts become items the Map pushes (re-fetched and
// checked against the sha256 Plan recorded), its rebuilt catalogs items Finish pushes.

const repo = 'https://charts.test/stable';

const doc = (mirror: Record<string, unknown>) => ({
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror,
});

let runs = 0;
async function setRun(
  store: MemoryRunStore,
  document: unknown,
  options: Partial<Omit<RunOptions, 'destination'>> = {},
): Promise<RunRecord> {
  const run = inProgressRun({
    runId: `content-run-${++runs}`,
    totalImages: 0,
    options: { destination: { registry: DST, prefix: 'mirror' }, imageSet: {}, ...options },
  });
  await store.putRunDocument(run.runId, document);
  await store.createRun(run, []);
  return run;
}

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

const helmSet = doc({
  helm: { repositories: [{ name: 'stable', url: repo, charts: [{ name: 'web', version: '1.0.0' }] }] },
});

describe('a run of a set with mirror.helm', () => {
  it('plans the chart as an item after its images, the Map pushes it, the mirror sets leave it out', async () => {
    const h = harness();
    const { tgz, url, image } = await webChart(h);
    const run = await setRun(h.store, helmSet);
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
    const run = await setRun(h.store, helmSet);
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
    const first = await setRun(h.store, helmSet);
    await h.tasks.preflight(first.runId);
    expect(await h.tasks.copyImage(first.runId, 1)).toEqual({ status: 'completed' });
    const again = await setRun(h.store, helmSet);
    await h.tasks.preflight(again.runId);
    expect(await h.tasks.copyImage(again.runId, 1)).toEqual({ status: 'skipped' });
  });
});
