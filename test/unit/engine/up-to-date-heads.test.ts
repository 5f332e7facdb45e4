import { describe, expect, it } from 'vitest';
import { createCopier } from '../../../functions/mirror/engine.js';
import type { Repository, RepositoryRef } from '../../../functions/oci/repository.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { addImage, addIndex, amd64, arm64 } from './images.js';

// issue 9: Ferry must not GET a manifest to decide that an image is up to date.

const at = (repository: Repository, reference: string): RepositoryRef => ({ repository, reference });

function setup() {
  const source = new MemoryRepository('library/app', { registry: 'src.test' });
  const destination = new MemoryRepository('mirror/library/app', { registry: 'dst.test' });
  return { source, destination, copier: createCopier() };
}

const ops = (repo: MemoryRepository, from: number): string[] => repo.calls.slice(from).map((c) => c.op);

describe('an up-to-date image is decided without reading manifests', () => {
  it('by digest: one HEAD at the destination, nothing at the source (copy and plan)', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1' });
    await copier.copy(at(source, image.digest), at(destination, image.digest));
    const [s, d] = [source.calls.length, destination.calls.length];
    const again = await copier.copy(at(source, image.digest), at(destination, image.digest));
    expect(again).toMatchObject({ status: 'skipped', digest: image.digest });
    const plan = await copier.plan(at(source, image.digest), at(destination, image.digest));
    expect(plan).toMatchObject({ status: 'up-to-date', digest: image.digest, manifestGets: 0 });
    expect(ops(source, s)).toEqual([]);
    expect(ops(destination, d)).toEqual(['headManifest', 'headManifest']);
  });

  it('one platform of an index: the index GET and a destination HEAD, never the child', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [arm64] });
    const [s, d] = [source.calls.length, destination.calls.length];
    const again = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [arm64] });
    expect(again).toMatchObject({ status: 'skipped', digest: index.children[1]!.digest });
    expect(ops(source, s)).toEqual(['getManifest']);
    expect(source.calls.at(-1)).toMatchObject({ op: 'getManifest', target: 'v1' });
    expect(ops(destination, d)).toEqual(['headManifest']);
  });

  it('one platform of an index the destination tag does not hold: copied as before', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [amd64] });
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [arm64] });
    expect(result).toMatchObject({ status: 'copied', digest: index.children[1]!.digest });
    expect(destination.tags.get('v1')).toBe(index.children[1]!.digest);
  });
});
