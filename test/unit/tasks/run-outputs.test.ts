import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { route } from '../../../functions/handlers/api/router.js';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import { formatIdms, formatItms } from '../../../functions/mirror/workspace/cluster-resources.js';
import type { WorkspaceEntry } from '../../../functions/mirror/workspace/entry.js';
import { silentLogger } from '../../../functions/oci/log.js';
import type { ImageRecord, RunRecord } from '../../../functions/runs/model.js';
import { RunOutputs } from '../../../functions/runs/run-outputs.js';
import { RunService } from '../../../functions/runs/service.js';
import { formatBytes } from '../../../functions/mirror/format.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';
import { inProgressRun } from '../../support/run-records.js';
import { addImage, createRun, DST, harness, imageBytes, SRC } from './harness.js';

// The run outputs (issue 9, "Pinned: API"): /idms, /itms, /errors, /plan over crafted image records.

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const [dA, dB, dC, dD, dE] = ['a', 'b', 'c', 'd', 'e'].map(digest) as [string, string, string, string, string];
const to = 'reg.example/mirror';

type ImageFields = Omit<ImageRecord, 'runId' | 'index' | 'destination'> & { destination?: string };

/** A run with these images (destination: the pinned naming under `to`), stored as the tasks leave it. */
async function putRun(
  store: MemoryRunStore,
  runId: string,
  images: readonly ImageFields[],
  fields: { status?: RunRecord['status']; dryRun?: boolean } = {},
): Promise<void> {
  const status = fields.status ?? 'completed';
  const run: RunRecord = {
    ...inProgressRun({ runId, totalImages: images.length, options: { dryRun: fields.dryRun ?? false } }),
    status,
    endTime: status === 'in-progress' ? null : '2026-01-01T00:01:00.000Z',
  };
  await store.createRun(
    run,
    images.map((image, index) => ({
      runId,
      index,
      destination: `${to}/${image.source.replace(/^[^/]+\//, '')}`,
      ...image,
    })),
  );
}

/** A real run's images: copied, up to date, failed and blocked, by tag and by digest. */
const mixed: ImageFields[] = [
  { source: 'quay.io/org/app:1.0', status: 'completed', digest: dA, bytes: 10 },
  { source: 'quay.io/org/app:1.1', status: 'skipped', digest: dB, message: 'destination is up to date' },
  { source: `quay.io/org/app@${dB}`, status: 'completed', digest: dB },
  { source: `docker.io/library/busybox@${dC}`, status: 'skipped', digest: dC },
  { source: 'docker.io/library/busybox:1.36', status: 'completed', digest: dC },
  { source: 'docker.io/library/nginx:1.27', status: 'failed', message: 'manifest unknown' },
  { source: 'docker.io/library/redis:7', status: 'skipped', message: 'blocked', blocked: true },
  { source: `ghcr.io/x/y@${dD}`, status: 'skipped', message: 'blocked', blocked: true },
  { source: 'registry.k8s.io/pause:3.10', status: 'failed', message: 'line one\nline two' },
  { source: `docker.io/library/alpine@${dE}`, status: 'failed', message: 'unauthorized' },
];

function setup() {
  const store = new MemoryRunStore();
  const outputs = new RunOutputs(store);
  const service = new RunService({
    store,
    vault: new MemoryVault(),
    workflow: { start: async () => 'x', stop: async () => undefined },
  });
  const call = async (path: string, method = 'GET', withOutputs = true) => {
    const res = await route(
      { httpMethod: method, path },
      service,
      silentLogger,
      undefined,
      withOutputs ? outputs : undefined,
    );
    return { status: res.statusCode, type: res.headers['content-type'], body: res.body };
  };
  return { store, outputs, call };
}

const mirrorSet = (kind: string, field: string, groups: { source: string; mirrors: string[] }[]) => ({
  apiVersion: 'config.openshift.io/v1',
  kind,
  metadata: {
    name: `${kind === 'ImageDigestMirrorSet' ? 'idms' : 'itms'}-generic-0`,
    annotations: { createdBy: 'ferry' },
  },
  spec: { [field]: groups },
});

describe('GET /v1/runs/{id}/idms and /itms', () => {
  it('hold exactly the mirrors of the images copied or up to date, per source repository: by digest in the IDMS, by tag in the ITMS', async () => {
    const { store, call } = setup();
    await putRun(store, 'mix', mixed, { status: 'failed' });
    const idms = await call('/v1/runs/mix/idms');
    expect(idms.status).toBe(200);
    expect(idms.type).toBe('application/yaml; charset=utf-8');
    expect(parse(idms.body)).toEqual(
      mirrorSet('ImageDigestMirrorSet', 'imageDigestMirrors', [
        { source: 'docker.io/library/busybox', mirrors: [`${to}/library/busybox`] },
        { source: 'quay.io/org/app', mirrors: [`${to}/org/app`] },
      ]),
    );
    const itms = await call('/v1/runs/mix/itms/');
    expect(itms.status).toBe(200);
    expect(itms.type).toBe('application/yaml; charset=utf-8');
    expect(parse(itms.body)).toEqual(
      mirrorSet('ImageTagMirrorSet', 'imageTagMirrors', [
        { source: 'docker.io/library/busybox', mirrors: [`${to}/library/busybox`] },
        { source: 'quay.io/org/app', mirrors: [`${to}/org/app`] },
      ]),
    );
  });

  it('are byte for byte the files the CLI writes for the same images', async () => {
    const { store, call } = setup();
    await putRun(store, 'mix', mixed, { status: 'failed' });
    // What `ferry mirror --config` gives its workspace for these results (cli/mirror-config.ts entries()).
    const cli: WorkspaceEntry[] = mixed.map((i) => ({
      source: i.source,
      destination: `${to}/${i.source.replace(/^[^/]+\//, '')}`,
      byDigest: i.source.includes('@'),
      ...(i.blocked ? { blocked: true } : i.status === 'failed' ? { error: i.message! } : { digest: i.digest! }),
    }));
    expect((await call('/v1/runs/mix/idms')).body).toBe(formatIdms(cli));
    expect((await call('/v1/runs/mix/itms')).body).toBe(formatItms(cli));
  });

  it('answer 404 naming the set a run has nothing for (oc-mirror writes no file then)', async () => {
    const { store, call } = setup();
    await putRun(store, 'tags', [{ source: 'quay.io/org/app:1.0', status: 'completed', digest: dA }]);
    await putRun(store, 'digests', [
      { source: `quay.io/org/app@${dA}`, status: 'completed', digest: dA },
      // Failed and blocked images by tag do not make an ITMS.
      { source: 'quay.io/org/app:2', status: 'failed', message: 'unauthorized' },
      { source: 'quay.io/org/app:3', status: 'skipped', message: 'blocked', blocked: true },
    ]);
    const noIdms = await call('/v1/runs/tags/idms');
    expect(noIdms.status).toBe(404);
    expect((JSON.parse(noIdms.body) as { message: string }).message).toContain('ImageDigestMirrorSet');
    const noItms = await call('/v1/runs/digests/itms');
    expect(noItms.status).toBe(404);
    expect((JSON.parse(noItms.body) as { message: string }).message).toContain('ImageTagMirrorSet');
    expect((await call('/v1/runs/tags/itms')).status).toBe(200);
    expect((await call('/v1/runs/digests/idms')).status).toBe(200);
  });

  it('of a run in progress list what is mirrored so far, never an image still pending', async () => {
    const { store, call } = setup();
    await putRun(
      store,
      'going',
      [
        { source: 'quay.io/org/done:1', status: 'completed', digest: dA },
        { source: 'quay.io/org/later:1', status: 'pending' },
        { source: 'quay.io/org/now:1', status: 'in-progress' },
      ],
      { status: 'in-progress' },
    );
    expect(parse((await call('/v1/runs/going/itms')).body)).toEqual(
      mirrorSet('ImageTagMirrorSet', 'imageTagMirrors', [{ source: 'quay.io/org/done', mirrors: [`${to}/org/done`] }]),
    );
  });

  it('of a dry run are a 409: a dry run mirrors nothing (the CLI writes no cluster-resources for one)', async () => {
    const { store, call } = setup();
    await putRun(
      store,
      'dry',
      [
        {
          source: 'quay.io/org/app:1.0',
          status: 'skipped',
          digest: dA,
          dryRun: { action: 'copy', blobs: 1, bytes: 1 },
        },
      ],
      { dryRun: true },
    );
    expect((await call('/v1/runs/dry/idms')).status).toBe(409);
    expect((await call('/v1/runs/dry/itms')).status).toBe(409);
  });
});

describe('GET /v1/runs/{id}/errors', () => {
  it('is mirroring_errors.txt: one line per failed image in run order, blocked images none, control characters escaped', async () => {
    const { store, call } = setup();
    await putRun(store, 'mix', mixed, { status: 'failed' });
    const errors = await call('/v1/runs/mix/errors');
    expect(errors.status).toBe(200);
    expect(errors.type).toBe('text/plain; charset=utf-8');
    expect(errors.body).toBe(
      [
        'error mirroring image docker.io/library/nginx:1.27 error: manifest unknown\n',
        'error mirroring image registry.k8s.io/pause:3.10 error: line one\\nline two\n',
        `error mirroring image docker.io/library/alpine@${dE} error: unauthorized\n`,
      ].join(''),
    );
  });

  it('is an empty 200 when nothing failed, and lists the images a dry run could not assess', async () => {
    const { store, call } = setup();
    await putRun(store, 'fine', [{ source: 'quay.io/org/app:1.0', status: 'completed', digest: dA }]);
    expect(await call('/v1/runs/fine/errors')).toEqual({ status: 200, type: 'text/plain; charset=utf-8', body: '' });
    await putRun(
      store,
      'dry',
      [
        {
          source: 'quay.io/org/app:1.0',
          status: 'skipped',
          digest: dA,
          dryRun: { action: 'skip', blobs: 0, bytes: 0 },
        },
        { source: 'quay.io/org/gone:1', status: 'failed', message: 'manifest unknown' },
      ],
      { dryRun: true, status: 'failed' },
    );
    expect((await call('/v1/runs/dry/errors')).body).toBe(
      'error mirroring image quay.io/org/gone:1 error: manifest unknown\n',
    );
  });
});

/** A dry run's images as assessImage records them, blocked and failed ones among them. */
const dryImages: ImageFields[] = [
  {
    source: 'quay.io/org/app:1.0',
    status: 'skipped',
    digest: dA,
    bytes: 3000,
    dryRun: { action: 'copy', blobs: 3, bytes: 3000, mount: 1, mountBytes: 1000, present: 2, manifestGets: 1 },
  },
  {
    source: `quay.io/org/app@${dB}`,
    status: 'skipped',
    digest: dB,
    bytes: 0,
    dryRun: { action: 'skip', blobs: 0, bytes: 0, mount: 0, mountBytes: 0, present: 4, manifestGets: 0 },
  },
  { source: 'docker.io/library/redis:7', status: 'skipped', message: 'blocked', blocked: true },
  { source: 'docker.io/library/nginx:1.27', status: 'failed', message: 'manifest unknown' },
  // Written before the plan's counts were recorded: they read as zero.
  {
    source: 'docker.io/library/busybox:1.36',
    status: 'skipped',
    digest: dC,
    dryRun: { action: 'copy', blobs: 2, bytes: 500 },
  },
  {
    source: `ghcr.io/x/y@${dD}`,
    status: 'skipped',
    digest: dD,
    dryRun: { action: 'copy', blobs: 2, bytes: 700, mount: 2, mountBytes: 700, present: 0, manifestGets: 2 },
  },
];

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

describe('run output routes', () => {
  it('answer an unknown run as /mapping does', async () => {
    const { call, outputs } = setup();
    const mapping = await call('/v1/runs/nope/mapping');
    expect(mapping.status).toBe(404);
    for (const output of ['idms', 'itms', 'errors', 'plan'])
      expect(await call(`/v1/runs/nope/${output}`)).toEqual(mapping);
    await expect(outputs.errors('nope')).rejects.toMatchObject({ name: 'RunNotFoundError', code: 'RUN_NOT_FOUND' });
  });

  it('allow GET only (405), and are no routes where the runtime gives no outputs (404)', async () => {
    const { store, call } = setup();
    await putRun(store, 'mix', mixed);
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await call('/v1/runs/mix/plan', method)).status).toBe(405);
    expect((await call('/v1/runs/mix/idms', 'POST')).status).toBe(405);
    expect((await call('/v1/runs/mix/idms', 'GET', false)).status).toBe(404);
    expect((await call('/v1/runs/mix/idmsx')).status).toBe(404);
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
