import { describe, expect, it } from 'vitest';
import { createCopier, type CopierOptions } from '../../../functions/mirror/engine.js';
import type { Repository, RepositoryRef } from '../../../functions/oci/repository.js';
import { digestOf } from '../../../functions/oci/digest.js';
import { MediaType } from '../../../functions/oci/media-types.js';
import { memoryRegistry, MemoryRepository } from '../../support/memory-repository.js';
import { addImage, addIndex, amd64, arm64, armv7, bytes, resetCalls, writeCalls } from './images.js';

/** One attempt per blob: a failure surfaces at once instead of after real backoff delays. */
const once = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

function setup(options: CopierOptions = {}) {
  const source = new MemoryRepository('library/app', { registry: 'src.test' });
  const registry = memoryRegistry('dst.test');
  const destination = registry('mirror/app');
  const copier = createCopier({ ...options, blobs: { retry: once, ...options.blobs } });
  return { source, registry, destination, copier };
}

const at = (repository: Repository, reference: string): RepositoryRef => ({ repository, reference });

describe('ImageCopier.copy: one image', () => {
  it('copies every blob, then the manifest under the tag, digest preserved', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: 2 });
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(result).toMatchObject({
      source: 'src.test/library/app:v1',
      destination: 'dst.test/mirror/app:v1',
      digest: image.digest,
      mediaType: MediaType.ociManifest,
      status: 'copied',
      blobs: { copied: 3, mounted: 0, skipped: 0 },
    });
    expect(destination.tags.get('v1')).toBe(image.digest);
    expect(destination.manifests.get(image.digest)?.bytes.equals(image.manifest.bytes)).toBe(true);
    for (const blob of image.blobs) expect(destination.blobs.get(blob.digest)).toEqual(source.blobs.get(blob.digest));
  });

  it('writes every blob before the manifest, and pushes the manifest once', async () => {
    const { source, destination, copier } = setup();
    addImage(source, { tag: 'v1', layers: 3 });
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    const ops = writeCalls(destination).map((c) => c.op);
    expect(ops).toEqual(['writeBlob', 'writeBlob', 'writeBlob', 'writeBlob', 'putManifest']);
  });

  it('counts bytes moved as the sum of the blobs streamed', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: [bytes('a', 100), bytes('b', 300)] });
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(result.bytes).toBe(image.blobs.reduce((n, b) => n + b.size, 0));
  });

  it('pushes under the digest when the destination names one, and says so with @', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1' });
    const result = await copier.copy(at(source, image.digest), at(destination, image.digest));
    expect(result.destination).toBe(`dst.test/mirror/app@${image.digest}`);
    expect(result.source).toBe(`src.test/library/app@${image.digest}`);
    expect(destination.tags.size).toBe(0);
    expect(destination.manifests.has(image.digest)).toBe(true);
  });
});

describe('ImageCopier.copy: an index', () => {
  it('pushes every child before the index and the tag last', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64, armv7], 'v1');
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(result).toMatchObject({ status: 'copied', digest: index.digest, mediaType: MediaType.ociIndex });
    const pushed = destination.calls.filter((c) => c.op === 'putManifest').map((c) => c.target);
    expect(pushed.slice(0, 3).sort()).toEqual(index.children.map((c) => c.digest).sort());
    expect(pushed[3]).toBe('v1');
    expect(pushed).toHaveLength(4);
    // Every blob of a child is in before that child is pushed.
    for (const child of index.children) {
      const put = destination.calls.findIndex((c) => c.op === 'putManifest' && c.target === child.digest);
      for (const blob of child.blobs)
        expect(destination.calls.findIndex((c) => c.op === 'writeBlob' && c.target === blob.digest)).toBeLessThan(put);
    }
    expect(result.digestChanged).toBeUndefined();
  });

  it('reads only the children the destination lacks', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    await copier.copy(at(source, index.children[0]!.digest), at(destination, index.children[0]!.digest));
    resetCalls(source, destination);
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(source.calls.filter((c) => c.op === 'getManifest').map((c) => c.target)).toEqual([
      'v1',
      index.children[1]!.digest,
    ]);
    expect(destination.calls.filter((c) => c.op === 'putManifest').map((c) => c.target)).toEqual([
      index.children[1]!.digest,
      'v1',
    ]);
  });
});

describe('ImageCopier.copy: up to date and kept tags', () => {
  it('skips an image the destination tag already has, with HEADs only: no blob calls, no manifest GET', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1' });
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    resetCalls(source, destination);
    const again = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(again).toMatchObject({ status: 'skipped', digest: image.digest, bytes: 0 });
    expect(again.blobs).toEqual({ copied: 0, mounted: 0, skipped: 0 });
    expect(source.calls.map((c) => c.op)).toEqual(['headManifest']);
    expect(destination.calls.map((c) => c.op)).toEqual(['headManifest']);
  });

  it('skips by digest too: the destination has the manifest, nothing is written', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1' });
    await copier.copy(at(source, 'v1'), at(destination, image.digest));
    resetCalls(destination);
    const again = await copier.copy(at(source, 'v1'), at(destination, image.digest));
    expect(again.status).toBe('skipped');
    expect(writeCalls(destination)).toEqual([]);
    expect(destination.count('headBlob')).toBe(0);
  });

  it('overwrites a tag that points elsewhere by default', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1' });
    const other = addImage(destination, { tag: 'v1' });
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(result.status).toBe('copied');
    expect(destination.tags.get('v1')).toBe(image.digest);
    expect(destination.tags.get('v1')).not.toBe(other.digest);
  });

  it('keeps a tag that points elsewhere with keepExistingTags: skipped with a note, nothing written', async () => {
    const { source, destination, copier } = setup();
    addImage(source, { tag: 'v1' });
    const other = addImage(destination, { tag: 'v1' });
    resetCalls(destination);
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { keepExistingTags: true });
    expect(result.status).toBe('skipped');
    expect(result.note).toContain(other.digest);
    expect(destination.tags.get('v1')).toBe(other.digest);
    expect(writeCalls(destination)).toEqual([]);
    expect(destination.count('headBlob')).toBe(0);
  });

  it('copies under a new tag with keepExistingTags when the tag is absent', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1' });
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { keepExistingTags: true });
    expect(result.status).toBe('copied');
    expect(destination.tags.get('v1')).toBe(image.digest);
  });
});

describe('ImageCopier.copy: platforms', () => {
  it('copies one platform of an index as that platform’s own manifest, digest unchanged', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64, armv7], 'v1');
    const arm = index.children[1]!;
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [arm64] });
    expect(result).toMatchObject({ status: 'copied', digest: arm.digest, mediaType: MediaType.ociManifest });
    expect(result.digestChanged).toBeUndefined();
    expect(destination.tags.get('v1')).toBe(arm.digest);
    expect([...destination.blobs.keys()].sort()).toEqual(arm.blobs.map((b) => b.digest).sort());
  });

  it('builds a new index for several platforms and says its digest changed', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64, armv7], 'v1');
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [amd64, armv7] });
    expect(result.digestChanged).toBe(true);
    expect(result.digest).not.toBe(index.digest);
    const pushed = destination.manifests.get(result.digest);
    expect(pushed?.kind === 'index' && pushed.index.manifests.map((d) => d.digest)).toEqual([
      index.children[0]!.digest,
      index.children[2]!.digest,
    ]);
    expect(pushed && digestOf(pushed.bytes)).toBe(result.digest);
    expect(destination.manifests.has(index.children[1]!.digest)).toBe(false);
  });

  it('keeps the index itself when every platform is asked for', async () => {
    const { source, destination, copier } = setup();
    const index = addIndex(source, [amd64, arm64], 'v1');
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [arm64, amd64] });
    expect(result.digest).toBe(index.digest);
    expect(result.digestChanged).toBeUndefined();
  });

  it('refuses a platform the source lacks with NotFoundError, writing nothing', async () => {
    const { source, destination, copier } = setup();
    addIndex(source, [amd64], 'v1');
    await expect(copier.copy(at(source, 'v1'), at(destination, 'v1'), { platforms: [arm64] })).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    expect(writeCalls(destination)).toEqual([]);
  });
});

describe('ImageCopier.copy: foreign layers', () => {
  function foreignImage(source: MemoryRepository) {
    const data = bytes('windows base layer', 200);
    const stored = source.addBlob(data, MediaType.dockerForeignLayer);
    const foreign = { ...stored, urls: ['https://foreign.test/layer'] };
    return addImage(source, { tag: 'v1', layers: 1, foreign: [foreign] });
  }

  it('leaves a foreign layer where its urls point by default', async () => {
    const { source, destination, copier } = setup();
    const image = foreignImage(source);
    const foreign = image.blobs[2]!;
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(result.blobs.copied).toBe(2);
    expect(source.calls.some((c) => c.op === 'openBlob' && c.target === foreign.digest)).toBe(false);
    expect(destination.blobs.has(foreign.digest)).toBe(false);
    expect(destination.tags.get('v1')).toBe(image.digest);
  });

  it('copies a foreign layer with includeForeignLayers', async () => {
    const { source, destination, copier } = setup();
    const image = foreignImage(source);
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { includeForeignLayers: true });
    expect(result.blobs.copied).toBe(3);
    expect(destination.blobs.has(image.blobs[2]!.digest)).toBe(true);
  });
});

describe('ImageCopier.copy: prepareDestination', () => {
  it('is called once, before the first write', async () => {
    const prepared: number[] = [];
    const { source, destination, copier } = setup({
      prepareDestination: async (repo) => {
        prepared.push((repo as MemoryRepository).calls.length);
      },
    });
    addIndex(source, [amd64, arm64], 'v1');
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(prepared).toHaveLength(1);
    const before = destination.calls.slice(0, prepared[0]);
    expect(before.every((c) => c.op === 'headManifest')).toBe(true);
    expect(writeCalls(destination).length).toBeGreaterThan(0);
  });

  it('is not called when the destination is up to date', async () => {
    let prepared = 0;
    const { source, destination, copier } = setup({ prepareDestination: async () => void prepared++ });
    addImage(source, { tag: 'v1' });
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(prepared).toBe(1);
  });

  it('is not called for a tag that is kept', async () => {
    let prepared = 0;
    const { source, destination, copier } = setup({ prepareDestination: async () => void prepared++ });
    addImage(source, { tag: 'v1' });
    addImage(destination, { tag: 'v1' });
    await copier.copy(at(source, 'v1'), at(destination, 'v1'), { keepExistingTags: true });
    expect(prepared).toBe(0);
  });
});

describe('ImageCopier.copy: the tally', () => {
  it('counts copied, mounted and skipped blobs and only the bytes streamed', async () => {
    const { source, registry, destination, copier } = setup();
    const shared = bytes('shared base', 500);
    const first = addImage(source, { tag: 'v1', layers: [shared, bytes('app v1', 100)] });
    const second = addImage(source, { tag: 'v2', layers: [shared, bytes('app v2', 100)] });
    const one = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(one.blobs).toEqual({ copied: 3, mounted: 0, skipped: 0 });
    expect(one.bytes).toBe(first.blobs.reduce((n, b) => n + b.size, 0));
    // Same repository: the shared base is already there.
    const two = await copier.copy(at(source, 'v2'), at(destination, 'v2'));
    expect(two.blobs).toEqual({ copied: 2, mounted: 0, skipped: 1 });
    expect(two.bytes).toBe(second.blobs[0]!.size + second.blobs[2]!.size);
    // A sibling repository of the same registry: mounted from where this process put them.
    const sibling = registry('other/app');
    const three = await copier.copy(at(source, 'v1'), at(sibling, 'v1'));
    expect(three.blobs).toEqual({ copied: 0, mounted: 3, skipped: 0 });
    expect(three.bytes).toBe(0);
    expect(sibling.count('writeBlob')).toBe(0);
  });
});

describe('ImageCopier.copy: failures', () => {
  it('fails with DigestMismatchError when the source serves other bytes, and pushes no manifest', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const layer = image.blobs[1]!;
    // A lying source: the same length, other content.
    source.blobs.set(layer.digest, Buffer.alloc(layer.size, 0x41));
    await expect(copier.copy(at(source, 'v1'), at(destination, 'v1'))).rejects.toMatchObject({
      name: 'DigestMismatchError',
    });
    expect(destination.blobs.has(layer.digest)).toBe(false);
    expect(destination.count('putManifest')).toBe(0);
  });

  it('pushes no manifest once the copy was aborted', async () => {
    const { source, destination, copier } = setup();
    addImage(source, { tag: 'v1' });
    const abort = new AbortController();
    destination.faults.before = (call) => {
      if (call.op === 'writeBlob') abort.abort();
    };
    await expect(copier.copy(at(source, 'v1'), at(destination, 'v1'), { signal: abort.signal })).rejects.toThrow();
    expect(destination.count('putManifest')).toBe(0);
    expect(destination.tags.size).toBe(0);
  });
});
