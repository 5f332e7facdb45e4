import { describe, expect, it } from 'vitest';
import { EcrScope } from '../../../functions/runs/ecr-scope.js';
import { AuthenticationError, ManifestInvalidError, TransportError } from '../../../functions/oci/errors.js';
import { addImage, createRun, DST, harness, SRC } from './harness.js';

const ecr = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

describe('preflight', () => {
  it('resolves every source tag to its digest, records it, and lists the images to copy', async () => {
    const { store, engines, tasks } = harness();
    const a = addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const b = addImage(engines.repo(SRC, 'library/b'), 'v2', ['b']);
    const run = await createRun(store, ['library/a:v1', 'library/b:v2']);
    expect(await tasks.preflight(run.runId)).toEqual({ proceed: true, indexes: [0, 1], failFast: false });
    expect(store.image(run.runId, 0).digest).toBe(a);
    expect(store.image(run.runId, 1).digest).toBe(b);
    expect((await store.listImages(run.runId)).map((i) => i.status)).toEqual(['pending', 'pending']);
  });

  it('fails a missing source alone; the others proceed', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(store, ['library/a:v1', 'library/gone:v1']);
    const found = await tasks.preflight(run.runId);
    expect(found).toEqual({ proceed: true, indexes: [0], failFast: false });
    expect(store.image(run.runId, 1)).toMatchObject({
      status: 'failed',
      message: `source ${SRC}/library/gone:v1 not found`,
    });
    expect(await store.getRun(run.runId)).toMatchObject({ status: 'in-progress', imagesProcessed: 1, imagesFailed: 1 });
  });

  it('fails an unreadable source alone (a non-retryable registry error)', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    engines.repo(SRC, 'library/bad').faults.before = (call) => {
      if (call.op === 'headManifest') throw new ManifestInvalidError('bad manifest');
    };
    const run = await createRun(store, ['library/a:v1', 'library/bad:v1']);
    expect((await tasks.preflight(run.runId)).indexes).toEqual([0]);
    expect(store.image(run.runId, 1)).toMatchObject({ status: 'failed', message: 'bad manifest' });
  });

  it('fails the whole run when a source registry refuses the credentials', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    engines.repo('private.test', 'team/app').faults.before = () => {
      throw new AuthenticationError('private.test: 401 unauthorized', { registry: 'private.test', status: 401 });
    };
    const run = await createRun(store, ['library/a:v1', 'private.test/team/app:v1']);
    expect(await tasks.preflight(run.runId)).toEqual({ proceed: false, indexes: [], failFast: false });
    const ended = await store.getRun(run.runId);
    expect(ended?.status).toBe('failed');
    expect(ended?.message).toMatch(/^source private\.test: /);
    expect(ended).toMatchObject({ imagesProcessed: 2, imagesFailed: 2 });
    for (const image of await store.listImages(run.runId)) {
      expect(image.status).toBe('failed');
      expect(image.message).toBe(`not copied: ${ended?.message}`);
    }
  });

  it('fails the whole run when a source registry cannot be reached (retryable error)', async () => {
    const { store, engines, tasks } = harness();
    engines.repo(SRC, 'library/a').faults.before = () => {
      throw new TransportError('connection reset', { registry: SRC });
    };
    const run = await createRun(store, ['library/a:v1']);
    expect((await tasks.preflight(run.runId)).proceed).toBe(false);
    expect(await store.getRun(run.runId)).toMatchObject({
      status: 'failed',
      message: `source ${SRC}: connection reset`,
    });
  });

  it('fails the run, reading no source, when the destination denies write access', async () => {
    const { store, engines, tasks } = harness();
    const source = engines.repo(SRC, 'library/a');
    addImage(source, 'v1', ['a']);
    engines.repo(DST, 'mirror/library/a').faults.writeAccessDenied = true;
    const run = await createRun(store, ['library/a:v1', 'library/a:v1']);
    expect((await tasks.preflight(run.runId)).proceed).toBe(false);
    const ended = await store.getRun(run.runId);
    expect(ended?.status).toBe('failed');
    expect(ended?.message).toMatch(/^destination dst\.test\/mirror\/library\/a: /);
    expect((await store.listImages(run.runId)).map((i) => i.status)).toEqual(['failed', 'failed']);
    expect(source.calls).toEqual([]);
  });

  it('fails the run when the destination repository cannot be created (prepare)', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    engines.prepareFault = new Error('CreateRepository denied');
    const run = await createRun(store, ['library/a:v1']);
    expect((await tasks.preflight(run.runId)).proceed).toBe(false);
    expect((await store.getRun(run.runId))?.message).toBe(
      'destination dst.test/mirror/library/a: CreateRepository denied',
    );
  });

  it('prepares (creates) the destination repository once before any copy', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(store, ['library/a:v1']);
    await tasks.preflight(run.runId);
    expect(engines.prepared).toEqual([`${DST}/mirror/library/a`]);
  });

  it('refuses an ECR destination outside the deployment scope before any request', async () => {
    const { store, engines, tasks } = harness();
    const source = engines.repo(SRC, 'library/a');
    addImage(source, 'v1', ['a']);
    engines.scope = new EcrScope(['mirror/']);
    const run = await createRun(store, ['library/a:v1'], { destination: { registry: ecr } });
    // The harness names destinations `mirror/…`; this one goes elsewhere.
    const [image] = await store.listImages(run.runId);
    store.images.get(run.runId)!.set(0, { ...image!, destination: `${ecr}/elsewhere/a:v1` });
    expect((await tasks.preflight(run.runId)).proceed).toBe(false);
    const ended = await store.getRun(run.runId);
    expect(ended?.status).toBe('failed');
    expect(ended?.message).toContain('is outside the repository prefixes');
    expect(engines.repo(ecr, 'elsewhere/a').calls).toEqual([]);
    expect(source.calls).toEqual([]);
  });

  it('fails a source refused by the ECR scope alone (EcrScopeError is not retryable)', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    engines.scope = new EcrScope(['mirror/']);
    const run = await createRun(store, ['library/a:v1', `${ecr}/private/b:v1`]);
    expect((await tasks.preflight(run.runId)).indexes).toEqual([0]);
    expect(store.image(run.runId, 1).status).toBe('failed');
    expect(store.image(run.runId, 1).message).toContain(`${ecr}/private/b`);
  });

  it('does not proceed for a cancelled run, and touches none of its images', async () => {
    const { store, engines, tasks } = harness();
    const source = engines.repo(SRC, 'library/a');
    addImage(source, 'v1', ['a']);
    const run = await createRun(store, ['library/a:v1']);
    await store.cancelRun(run.runId);
    expect(await tasks.preflight(run.runId)).toEqual({ proceed: false, indexes: [], failFast: false });
    expect(store.calls.filter((c) => c.op === 'finishImage' || c.op === 'annotateImage')).toEqual([]);
    expect(source.calls).toEqual([]);
  });

  it('does not proceed for a run that does not exist', async () => {
    const { tasks } = harness();
    expect((await tasks.preflight('no-such-run')).proceed).toBe(false);
  });

  it('does not proceed when every image failed preflight', async () => {
    const { store, tasks } = harness();
    const run = await createRun(store, ['library/gone:v1']);
    expect(await tasks.preflight(run.runId)).toEqual({ proceed: false, indexes: [], failFast: false });
  });

  it('skips images already final and passes failFast on', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    addImage(engines.repo(SRC, 'library/b'), 'v1', ['b']);
    const run = await createRun(store, ['library/a:v1', 'library/b:v1'], { failFast: true }, ['completed', 'pending']);
    expect(await tasks.preflight(run.runId)).toEqual({ proceed: true, indexes: [1], failFast: true });
    expect(store.image(run.runId, 0).digest).toBeUndefined();
  });

  it('checks a dry run destination by reading only: no repository created, no upload opened', async () => {
    const { store, engines, tasks } = harness();
    addImage(engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const destination = engines.repo(DST, 'mirror/library/a');
    destination.faults.writeAccessDenied = true; // a read-only credential is enough for a dry run
    const run = await createRun(store, ['library/a:v1'], { dryRun: true });
    expect((await tasks.preflight(run.runId)).proceed).toBe(true);
    expect(engines.prepared).toEqual([]);
    expect(destination.calls.map((c) => c.op)).toEqual(['headManifest']);
  });
});
