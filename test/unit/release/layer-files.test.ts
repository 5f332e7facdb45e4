import { describe, expect, it } from 'vitest';
import {
  applyLayers,
  type LayerEntry,
  normalizeLayerPath,
  readImageFiles,
  readLayerFiles,
} from '../../../functions/mirror/content/layer-files.js';
import { MediaType } from '../../../functions/oci/media-types.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { tarLayer } from '../../support/release-fixture.js';

const manifests = (path: string): boolean => path.startsWith('release-manifests/');
const options = { want: manifests, maxFileBytes: 1024 };

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as Error & { code?: string },
  );
}

describe('readLayerFiles', () => {
  const entries = [
    { name: 'filler.bin', data: Buffer.alloc(4096, 7) },
    { name: './release-manifests/', type: 'directory' as const },
    { name: './release-manifests/image-references', data: '{"a":1}' },
    { name: '/release-manifests/release-metadata', data: '{"version":"4.17.3"}' },
    { name: 'etc/passwd', data: 'root' },
  ];

  it.each([
    ['gzip (OCI)', MediaType.ociLayerGzip, true],
    ['gzip (Docker rootfs diff)', MediaType.dockerLayer, true],
    ['plain tar', MediaType.ociLayer, false],
  ])('reads the wanted files of a %s layer, paths normalised', async (_, mediaType, gzip) => {
    const repo = new MemoryRepository('ocp/release');
    const layer = repo.addBlob(await tarLayer(entries, gzip), mediaType);
    const found = await readLayerFiles(repo, layer, options);
    expect(found.map((e) => [e.kind, e.path, e.kind === 'file' ? e.bytes.toString() : ''])).toEqual([
      ['file', 'release-manifests/image-references', '{"a":1}'],
      ['file', 'release-manifests/release-metadata', '{"version":"4.17.3"}'],
    ]);
    expect(repo.calls).toEqual([{ op: 'openBlob', target: layer.digest, offset: 0 }]);
  });

  it('refuses a wanted file over the cap, naming the layer and the path', async () => {
    const repo = new MemoryRepository('ocp/release');
    const layer = repo.addBlob(
      await tarLayer([{ name: 'release-manifests/image-references', data: Buffer.alloc(1025) }]),
      MediaType.ociLayerGzip,
    );
    const err = await rejection(readLayerFiles(repo, layer, options));
    expect([err.name, err.code]).toEqual(['LayerContentError', 'LAYER_FILE_TOO_LARGE']);
    expect(err.message).toContain(layer.digest);
    expect(err.message).toContain('release-manifests/image-references');
  });

  it('refuses wanted files that together pass maxTotalBytes', async () => {
    const repo = new MemoryRepository('catalog');
    const files = Array.from({ length: 3 }, (_, i) => ({ name: `release-manifests/f${i}`, data: Buffer.alloc(600) }));
    const layer = repo.addBlob(await tarLayer(files), MediaType.ociLayerGzip);
    const err = await rejection(readLayerFiles(repo, layer, { ...options, maxTotalBytes: 1500 }));
    expect([err.name, err.code]).toEqual(['LayerContentError', 'LAYER_FILES_TOO_LARGE']);
    expect(err.message).toContain('release-manifests/f2');
    expect(await readLayerFiles(repo, layer, { ...options, maxTotalBytes: 1800 })).toHaveLength(3);
  });

  it('reads an unwanted file of any size without holding it (no cap applies)', async () => {
    const repo = new MemoryRepository('ocp/release');
    const layer = repo.addBlob(
      await tarLayer([{ name: 'big.bin', data: Buffer.alloc(256 * 1024) }, entries[2]!]),
      MediaType.ociLayerGzip,
    );
    const found = await readLayerFiles(repo, layer, options);
    expect(found.map((e) => e.path)).toEqual(['release-manifests/image-references']);
  });

  it('reports whiteouts and opaque markers whatever the predicate', async () => {
    const repo = new MemoryRepository('ocp/release');
    const layer = repo.addBlob(
      await tarLayer([
        { name: 'configs/.wh..wh..opq', data: '' },
        { name: 'release-manifests/.wh.image-references', data: '' },
        { name: 'tmp/.wh.cache', data: '' },
        { name: 'release-manifests/link', type: 'symlink', linkname: '/etc/passwd' },
      ]),
      MediaType.ociLayerGzip,
    );
    expect(await readLayerFiles(repo, layer, options)).toEqual([
      { kind: 'opaque', path: 'configs' },
      { kind: 'whiteout', path: 'release-manifests/image-references' },
      { kind: 'whiteout', path: 'tmp/cache' },
      { kind: 'other', path: 'release-manifests/link' },
    ]);
  });

  it('refuses content that does not hash to the descriptor (DigestMismatchError), returning nothing', async () => {
    const repo = new MemoryRepository('ocp/release');
    const good = repo.addBlob(await tarLayer(entries), MediaType.ociLayerGzip);
    const evil = await tarLayer([{ name: 'release-manifests/image-references', data: '{"evil":1}' }]);
    repo.blobs.set(good.digest, evil);
    const err = await rejection(readLayerFiles(repo, { ...good, size: evil.length }, options));
    expect(err.name).toBe('DigestMismatchError');
  });

  it('refuses zstd and non-tar media types before reading anything', async () => {
    const repo = new MemoryRepository('ocp/release');
    const zstd = repo.addBlob('x', 'application/vnd.oci.image.layer.v1.tar+zstd');
    const json = repo.addBlob('{}', 'application/json');
    for (const layer of [zstd, json]) {
      const err = await rejection(readLayerFiles(repo, layer, options));
      expect([err.name, err.code]).toEqual(['LayerContentError', 'LAYER_COMPRESSION']);
    }
    expect(repo.count('openBlob')).toBe(0);
  });

  it('refuses a gzip layer that is not a tar', async () => {
    const repo = new MemoryRepository('ocp/release');
    const layer = repo.addBlob(Buffer.from('not gzip at all'), MediaType.ociLayerGzip);
    const err = await rejection(readLayerFiles(repo, layer, options));
    expect([err.name, err.code]).toEqual(['LayerContentError', 'LAYER_UNREADABLE']);
  });

  it('caps the entries it reports', async () => {
    const repo = new MemoryRepository('ocp/release');
    const many = Array.from({ length: 5 }, (_, i) => ({ name: `d/.wh.f${i}`, data: '' }));
    const layer = repo.addBlob(await tarLayer(many), MediaType.ociLayerGzip);
    const err = await rejection(readLayerFiles(repo, layer, { ...options, maxEntries: 4 }));
    expect(err.code).toBe('LAYER_TOO_MANY_ENTRIES');
  });
});

describe('applyLayers / readImageFiles', () => {
  const file = (path: string, text: string): LayerEntry => ({ kind: 'file', path, bytes: Buffer.from(text) });
  const view = (m: Map<string, Buffer>): Record<string, string> =>
    Object.fromEntries([...m].map(([k, v]) => [k, v.toString()]));

  it('lays upper layers over lower ones, whiteouts and opaque directories hiding lower entries only', () => {
    const result = applyLayers([
      [
        file('configs/a/index.json', 'a1'),
        file('configs/b/index.json', 'b1'),
        file('tmp/cache/x', 'c'),
        file('keep', 'k'),
      ],
      [
        { kind: 'opaque', path: 'configs' },
        file('configs/a/index.json', 'a2'),
        { kind: 'whiteout', path: 'tmp/cache' },
      ],
      [file('keep', 'k3'), { kind: 'other', path: 'configs/a/index.json' }],
    ]);
    expect(view(result)).toEqual({ keep: 'k3' });
    expect(view(applyLayers([[file('x', '1')], [{ kind: 'whiteout', path: 'x' }, file('x', '2')]]))).toEqual({
      x: '2',
    });
  });

  it('reads the layers of an image from the top down, with the result of applying them bottom-up', async () => {
    const repo = new MemoryRepository('ocp/release');
    const lower = repo.addBlob(
      await tarLayer([
        { name: 'release-manifests/image-references', data: 'old' },
        { name: 'release-manifests/gone', data: 'x' },
      ]),
      MediaType.ociLayerGzip,
    );
    const upper = repo.addBlob(
      await tarLayer([
        { name: 'release-manifests/.wh.gone', data: '' },
        { name: 'release-manifests/image-references', data: 'new' },
      ]),
      MediaType.ociLayerGzip,
    );
    expect(view(await readImageFiles(repo, [lower, upper], options))).toEqual({
      'release-manifests/image-references': 'new',
    });
    expect(repo.calls.map((c) => c.target)).toEqual([upper.digest, lower.digest]);
  });

  it('gives what applyLayers gives for a stack with opaque directories, whiteouts and replaced files', async () => {
    const repo = new MemoryRepository('catalog');
    const want = { want: () => true, maxFileBytes: 1024 };
    const stack = [
      [
        { name: 'configs/a/index.json', data: 'a1' },
        { name: 'configs/b/index.json', data: 'b1' },
        { name: 'tmp/cache/x', data: 'c' },
        { name: 'keep', data: 'k' },
        { name: 'gone', data: 'g' },
      ],
      [
        { name: 'configs/.wh..wh..opq', data: '' },
        { name: 'configs/a/index.json', data: 'a2' },
        { name: 'tmp/.wh.cache', data: '' },
        { name: '.wh.gone', data: '' },
      ],
      [
        { name: 'keep', data: 'k3' },
        { name: 'configs/c/index.json', data: 'c3' },
      ],
    ];
    const layers = [];
    for (const entries of stack) layers.push(repo.addBlob(await tarLayer(entries), MediaType.ociLayerGzip));
    const bottomUp = [];
    for (const layer of layers) bottomUp.push(await readLayerFiles(repo, layer, want));
    const expected = view(applyLayers(bottomUp));
    expect(expected).toEqual({ keep: 'k3', 'configs/a/index.json': 'a2', 'configs/c/index.json': 'c3' });
    expect(view(await readImageFiles(repo, layers, want))).toEqual(expected);
  });

  it('stops reading lower layers once every `until` path is found or hidden', async () => {
    const repo = new MemoryRepository('ocp/release');
    const base = repo.addBlob(await tarLayer([{ name: 'release-manifests/a', data: 'base' }]), MediaType.ociLayerGzip);
    const middle = repo.addBlob(
      await tarLayer([{ name: 'release-manifests/.wh.b', data: '' }]),
      MediaType.ociLayerGzip,
    );
    const top = repo.addBlob(await tarLayer([{ name: 'release-manifests/a', data: 'top' }]), MediaType.ociLayerGzip);
    const files = await readImageFiles(repo, [base, middle, top], {
      ...options,
      until: ['release-manifests/a', 'release-manifests/b'],
    });
    expect(view(files)).toEqual({ 'release-manifests/a': 'top' });
    expect(repo.calls.map((c) => c.target)).toEqual([top.digest, middle.digest]);
  });

  it.each([
    ['./a/b', 'a/b'],
    ['/a//b/', 'a/b'],
    ['a/./b/../c', 'a/c'],
    ['./', ''],
    ['../etc/passwd', 'etc/passwd'],
  ])('normalises %s', (input, expected) => {
    expect(normalizeLayerPath(input)).toBe(expected);
  });
});
