import { describe, expect, it } from 'vitest';
import type { StoredImageSet } from '../../../functions/runs/image-set-store.js';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import type { WorkflowStarter } from '../../../functions/runs/ports.js';
import { RunService } from '../../../functions/runs/service.js';
import { MemoryImageSets } from '../../support/memory-image-sets.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';

/** `POST /v1/runs` with `imageSet` or `config` (issue 9): what the service stores before the workflow expands the set. */

const document = {
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: { repositories: [{ name: 'quay.example/team/app', tags: { latest: 3 } }] },
};
const destination = { registry: 'mirror.example', prefix: 'copy' };

function setup() {
  const store = new MemoryRunStore();
  const imageSets = new MemoryImageSets();
  const started: string[] = [];
  const workflow: WorkflowStarter = {
    start: (runId) => (started.push(runId), Promise.resolve(`exec-${runId}`)),
    stop: () => Promise.resolve(),
  };
  let n = 0;
  const service = new RunService({
    store,
    vault: new MemoryVault(),
    workflow,
    imageSets,
    settings: imageSets,
    newId: () => `run-${++n}`,
  });
  return { store, imageSets, started, service };
}

async function storeSet(imageSets: MemoryImageSets, fields: { destination?: StoredImageSet['destination'] } = {}) {
  await imageSets.putImageSet(
    { name: 'apps', version: 4, createdAt: 't', updatedAt: 't', config: document, ...fields },
    0,
  );
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ name: 'BadRequestError', code: 'BAD_REQUEST' });
  return (err as Error).message;
}

describe('runs of image sets', () => {
  it('a stored set: the run records its name and version, keeps its document and its destination, and has no images yet', async () => {
    const { store, imageSets, started, service } = setup();
    await storeSet(imageSets, { destination: { ...destination, insecure: false } });
    const { view } = await service.startRun({ imageSet: 'apps' });
    expect(view).toMatchObject({ runId: 'run-1', totalImages: 0, imageSet: { name: 'apps', version: 4 } });
    expect(store.runs.get('run-1')?.options).toMatchObject({
      imageSet: { name: 'apps', version: 4 },
      destination: { registry: 'mirror.example', prefix: 'copy' },
      dryRun: false,
    });
    expect(await store.getRunDocument('run-1')).toEqual(document);
    expect(await store.listImages('run-1')).toEqual([]);
    expect(started).toEqual(['run-1']);
  });

  it('the request destination wins over the set’s; without either, the default one is used', async () => {
    const { store, imageSets, service } = setup();
    await storeSet(imageSets, { destination: { ...destination, insecure: false } });
    await service.startRun({ imageSet: 'apps', destination: { registry: 'other.example' } });
    expect(store.runs.get('run-1')?.options.destination.registry).toBe('other.example');

    const bare = setup();
    await storeSet(bare.imageSets);
    expect(await refusal(bare.service.startRun({ imageSet: 'apps' }))).toMatch(/^destination: no destination given/);
    bare.imageSets.settings = { defaultDestination: { registry: 'default.example', insecure: false } };
    await bare.service.startRun({ imageSet: 'apps' });
    expect(bare.store.runs.get('run-1')?.options.destination.registry).toBe('default.example');
  });

  it('an inline document: kept with the run, no name or version; a prune run is a dry run unless told otherwise', async () => {
    const { store, service } = setup();
    const { view } = await service.startRun({ config: document, destination, action: 'prune' });
    expect(view).toMatchObject({ imageSet: {}, action: 'prune' });
    expect(store.runs.get('run-1')?.options).toMatchObject({ action: 'prune', dryRun: true, imageSet: {} });
    expect(await store.getRunDocument('run-1')).toEqual(document);
    await service.startRun({ config: document, destination, action: 'prune', dryRun: false });
    expect(store.runs.get('run-2')?.options.dryRun).toBe(false);
  });

  it.each([
    [{ destination }, 'images: required (or name a stored set with imageSet, or send one inline as config)'],
    [
      { images: ['a.example/x:1'], imageSet: 'apps', destination },
      'body: takes exactly one of images, imageSet or config, not images and imageSet',
    ],
    [{ imageSet: 'Apps!', destination }, 'imageSet: must be 1 to 63 lowercase letters'],
    [{ imageSet: 'missing', destination }, 'imageSet: there is no image set named missing'],
    [{ images: ['a.example/x:1'], destination, action: 'prune' }, 'action: "prune" needs an image set'],
    [
      {
        config: { ...document, mirror: { repositories: [{ name: 'quay.example/a', tags: { semvr: '1' } }] } },
        destination,
      },
      'config.mirror.repositories[0].tags',
    ],
    [{ config: { ...document, kind: 'Other' }, destination }, 'config.kind: '],
  ])('refuses %j with a 400 naming the field, storing nothing', async (input, message) => {
    const { store, imageSets, started, service } = setup();
    await storeSet(imageSets);
    expect(await refusal(service.startRun(input))).toContain(message);
    expect([store.runs.size, store.documents.size, started.length]).toEqual([0, 0, 0]);
  });
});
