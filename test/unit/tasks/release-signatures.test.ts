import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { RunOutputs } from '../../../functions/runs/run-outputs.js';
import { addImage, createRun, harness } from './harness.js';

// Release signatures in runs (issue 10): the copy task of a release image fetches them by the digest it
// mirrored and keeps them on the image; /cluster-resources carries them as oc adm release mirror's ConfigMaps.

async function releaseRun(signatures: ((digest: string) => Promise<Buffer[]>) | undefined) {
  const h = harness();
  h.engines.releaseSignatures = signatures;
  const digest = addImage(h.engines.repo('quay.test', 'ocp/release'), '4.18.1-x86_64', ['payload']);
  const run = await createRun(h.store, ['quay.test/ocp/release:4.18.1-x86_64']);
  // What expand-run records for a release image of `mirror.platform`.
  h.store.images.get(run.runId)!.set(0, { ...h.store.image(run.runId, 0), release: true });
  await h.tasks.preflight(run.runId);
  await h.tasks.copyImage(run.runId, 0);
  await h.tasks.finish(run.runId);
  return { ...h, run, digest, image: h.store.image(run.runId, 0) };
}

describe('release signatures in runs', () => {
  it('are fetched by the mirrored digest, kept on the image and served as a ConfigMap', async () => {
    const asked: string[] = [];
    const { store, run, digest, image } = await releaseRun(async (d) => {
      asked.push(d);
      return [Buffer.from('sig one'), Buffer.from('sig two')];
    });
    expect(asked).toEqual([digest]);
    expect(image).toMatchObject({ status: 'completed', digest, signatures: ['c2lnIG9uZQ==', 'c2lnIHR3bw=='] });
    const yaml = await new RunOutputs(store).clusterResources(run.runId);
    const docs = parseAllDocuments(yaml!).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; binaryData?: object },
    );
    const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
    const hex = digest.slice('sha256:'.length);
    expect(configMap.metadata.name).toBe(`sha256-${hex}`);
    expect(configMap.binaryData).toEqual({ [`sha256-${hex}-1`]: 'c2lnIG9uZQ==', [`sha256-${hex}-2`]: 'c2lnIHR3bw==' });
    expect(docs.map((d) => d.kind)).toEqual(['ImageTagMirrorSet', 'ConfigMap']);
  });

  it('a missing store, no signature or a failing store is a note on the image, never a failed copy', async () => {
    const none = await releaseRun(undefined);
    expect(none.image.status).toBe('completed');
    expect(none.image.message).toMatch(/; release signatures not fetched: no signature store configured$/);
    expect(none.image.signatures).toBeUndefined();
    const empty = await releaseRun(async () => []);
    expect(empty.image.message).toMatch(/; the signature store has no signature for this release$/);
    const failing = await releaseRun(() => Promise.reject(new Error('store down')));
    expect(failing.image).toMatchObject({ status: 'completed' });
    expect(failing.image.message).toMatch(/; release signatures not fetched: store down$/);
    expect(await failing.store.getRun(failing.run.runId)).toMatchObject({ status: 'completed', imagesFailed: 0 });
  });
});
