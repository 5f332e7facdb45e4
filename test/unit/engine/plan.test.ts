import { describe, expect, it } from 'vitest';
import { createCopier } from '../../../functions/mirror/engine.js';
import type { Platform } from '../../../functions/oci/manifest.js';
import type { Repository, RepositoryRef } from '../../../functions/oci/repository.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { addImage, addIndex, amd64, arm64, armv7, bytes, writeCalls } from './images.js';

function setup(manifestConcurrency?: number) {
  const source = new MemoryRepository('library/app', { registry: 'src.test' });
  const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
  let prepared = 0;
  const copier = createCopier({
    prepareDestination: async () => void prepared++,
    ...(manifestConcurrency === undefined ? {} : { manifestConcurrency }),
  });
  return { source, destination, copier, prepared: () => prepared };
}

const at = (repository: Repository, reference: string): RepositoryRef => ({ repository, reference });

/** A plan reads: no write, no blob body, no repository creation. */
function expectNoWrites(source: MemoryRepository, destination: MemoryRepository, prepared: number): void {
  expect(writeCalls(destination)).toEqual([]);
  expect(source.count('openBlob') + destination.count('openBlob')).toBe(0);
  expect(prepared).toBe(0);
}

describe('ImageCopier.plan', () => {
  it('counts the blobs the destination lacks, their bytes and those present, without writing', async () => {
    const { source, destination, copier, prepared } = setup();
    const base = bytes('base', 1_000);
    const image = addImage(source, { tag: 'v1', layers: [base, bytes('app', 300)] });
    destination.addBlob(base);
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'));
    const [config, , app] = image.blobs;
    expect(plan).toEqual({
      digest: image.digest,
      status: 'would-copy',
      missing: { blobs: 2, bytes: config!.size + app!.size, mountable: { blobs: 0, bytes: 0 } },
      present: 1,
      manifestGets: 1,
    });
    expectNoWrites(source, destination, prepared());
  });

  it('counts a blob shared by several children once', async () => {
    const { source, destination, copier } = setup();
    const shared = bytes('shared', 700);
    const one = addImage(source, { platform: amd64, layers: [shared] });
    const two = addImage(source, { platform: arm64, layers: [shared] });
    source.addManifest(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [one.descriptor, two.descriptor],
      },
      'v1',
    );
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'));
    // Two configs and the shared layer.
    expect(plan.missing).toEqual({
      blobs: 3,
      bytes: one.blobs[0]!.size + two.blobs[0]!.size + 700,
      mountable: { blobs: 0, bytes: 0 },
    });
    expect(destination.calls.filter((c) => c.op === 'headBlob' && c.target === one.blobs[1]!.digest)).toHaveLength(1);
  });

  it('counts one manifest GET per child of an index, plus the index', async () => {
    const { source, destination, copier, prepared } = setup();
    const index = addIndex(source, [amd64, arm64, armv7], 'v1');
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'));
    expect(plan).toMatchObject({ digest: index.digest, status: 'would-copy', manifestGets: 4, present: 0 });
    expect(plan.missing.blobs).toBe(index.blobs.length);
    expect(source.count('getManifest')).toBe(4);
    expectNoWrites(source, destination, prepared());
  });

  it('counts no GET for a child the destination has', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    const child = index.children[0]!;
    for (const blob of child.blobs) destination.blobs.set(blob.digest, source.blobs.get(blob.digest)!);
    destination.manifests.set(child.digest, child.manifest);
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'));
    expect(plan.manifestGets).toBe(2);
    expect(plan.missing.blobs).toBe(index.children[1]!.blobs.length);
  });

  it('counts two GETs for one platform picked out of an index (the index and its manifest)', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'), { platforms: [arm64] });
    expect(plan).toMatchObject({ digest: index.children[1]!.digest, manifestGets: 2 });
    expect(plan.missing.blobs).toBe(index.children[1]!.blobs.length);
  });

  it('reports up-to-date from HEADs alone, with no manifest GET', async () => {
    const { source, destination, copier, prepared } = setup();
    const image = addImage(source, { tag: 'v1' });
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    source.calls.length = 0;
    destination.calls.length = 0;
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'));
    expect(plan).toEqual({
      digest: image.digest,
      status: 'up-to-date',
      missing: { blobs: 0, bytes: 0, mountable: { blobs: 0, bytes: 0 } },
      present: 0,
      manifestGets: 0,
    });
    expect(source.count('getManifest')).toBe(0);
    expectNoWrites(source, destination, prepared() - 1);
  });

  it('reports up-to-date for a platform selection the destination already has', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [amd64] });
    const gets = source.count('getManifest');
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'), { platforms: [amd64] });
    // The index alone: the destination tag's digest is the picked child's, read from the index.
    expect(plan).toMatchObject({ status: 'up-to-date', digest: index.children[0]!.digest, manifestGets: 1 });
    expect(source.count('getManifest') - gets).toBe(1);
  });

  it('reports tag-kept with the note when the destination tag points elsewhere and is kept', async () => {
    const { source, destination, copier, prepared } = setup();
    addImage(source, { tag: 'v1' });
    const other = addImage(destination, { tag: 'v1' });
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'), { keepExistingTags: true });
    expect(plan.status).toBe('tag-kept');
    expect(plan.note).toContain(other.digest);
    expect(plan.missing).toEqual({ blobs: 0, bytes: 0, mountable: { blobs: 0, bytes: 0 } });
    expectNoWrites(source, destination, prepared());
  });

  it(
    'walks an index with more children than manifest slots (no deadlock on blob HEADs)',
    { timeout: 5_000 },
    async () => {
      const { source, destination, copier } = setup(2);
      const platforms: Platform[] = Array.from({ length: 5 }, (_, i) => ({ os: 'linux', architecture: `arch${i}` }));
      const index = addIndex(source, platforms, 'v1');
      const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'));
      expect(plan.manifestGets).toBe(6);
      expect(plan.missing.blobs).toBe(index.blobs.length);
    },
  );

  it('agrees with what a copy then moves', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    destination.addBlob(source.blobs.get(index.children[0]!.blobs[1]!.digest)!);
    const plan = await copier.plan(at(source, 'v1'), at(destination, 'v1'));
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(result.blobs.copied).toBe(plan.missing.blobs);
    expect(result.blobs.skipped).toBe(plan.present);
    expect(result.bytes).toBe(plan.missing.bytes);
    expect(source.count('getManifest')).toBe(plan.manifestGets * 2);
  });
});
