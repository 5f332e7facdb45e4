import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { formatIdms, formatItms } from '../../../functions/mirror/workspace/cluster-resources.js';
import type { WorkspaceEntry } from '../../../functions/mirror/workspace/entry.js';
import { dA, dE, mixed, putRun, setup, to } from './run-output-records.js';

// The run outputs (issue 9, "Pinned: API"): /idms, /itms, /errors over crafted image records, and the routes.

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

describe('GET /v1/runs/{id}/cluster-resources', () => {
  it('is the IDMS then the ITMS as one multi-document YAML, each byte for byte its own route', async () => {
    const { store, call } = setup();
    await putRun(store, 'mix', mixed, { status: 'failed' });
    const all = await call('/v1/runs/mix/cluster-resources');
    expect([all.status, all.type]).toEqual([200, 'application/yaml; charset=utf-8']);
    const idms = (await call('/v1/runs/mix/idms')).body;
    const itms = (await call('/v1/runs/mix/itms')).body;
    expect(all.body).toBe(`${idms}${itms}`);
    expect(parseAllDocuments(all.body).map((d) => (d.toJS() as { kind: string }).kind)).toEqual([
      'ImageDigestMirrorSet',
      'ImageTagMirrorSet',
    ]);
  });

  it('holds only the sets a run has, is a 404 when it mirrored nothing and a 409 for a dry run', async () => {
    const { store, call } = setup();
    await putRun(store, 'tags', [{ source: 'quay.io/org/app:1.0', status: 'completed', digest: dA }]);
    expect((await call('/v1/runs/tags/cluster-resources')).body).toBe((await call('/v1/runs/tags/itms')).body);
    await putRun(store, 'none', [{ source: 'quay.io/org/gone:1', status: 'failed', message: 'manifest unknown' }]);
    expect((await call('/v1/runs/none/cluster-resources')).status).toBe(404);
    await putRun(store, 'dry', [{ source: 'quay.io/org/app:1.0', status: 'skipped', digest: dA }], { dryRun: true });
    expect((await call('/v1/runs/dry/cluster-resources')).status).toBe(409);
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
