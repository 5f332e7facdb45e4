import { describe, expect, it } from 'vitest';
import { createCopier } from '../../../functions/mirror/engine.js';
import { MediaType } from '../../../functions/oci/media-types.js';
import { memoryRegistry, MemoryRepository } from '../../support/memory-repository.js';

function image(repo: MemoryRepository, tag: string, layer: string): string {
  const config = repo.addBlob('{"architecture":"amd64","os":"linux"}', MediaType.ociConfig);
  const layers = [repo.addBlob(layer, MediaType.ociLayerGzip)];
  return repo.addManifest({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }, tag).digest;
}

describe('MemoryRepository (the unit tier fake)', () => {
  it('takes a copy from the engine digest for digest, and mounts inside one registry', async () => {
    const source = new MemoryRepository('library/app', { registry: 'src.test' });
    const digest = image(source, 'v1', 'layer bytes');
    const repo = memoryRegistry('dst.test');
    const first = repo('mirror/app');
    const second = repo('other/app');
    const copier = createCopier();
    const result = await copier.copy(
      { repository: source, reference: 'v1' },
      { repository: first, reference: 'v1' },
      {},
    );
    expect(result.digest).toBe(digest);
    expect(first.tags.get('v1')).toBe(digest);
    expect(first.count('writeBlob')).toBe(2);
    await copier.copy({ repository: source, reference: 'v1' }, { repository: second, reference: 'v1' }, {});
    expect(second.count('writeBlob')).toBe(0);
    expect(second.calls.filter((c) => c.op === 'mountBlob' && c.from === 'mirror/app')).toHaveLength(2);
  });

  it('refuses a blob whose bytes do not match its digest', async () => {
    const repo = new MemoryRepository('x');
    const good = repo.addBlob('abc');
    const { Readable } = await import('node:stream');
    await expect(repo.writeBlob(good, Readable.from([Buffer.from('abd')]))).rejects.toThrow(/does not match/);
  });
});
