import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseLocation, parseImageReference } from '../../functions/oci/reference.js';
import { parsePlatform } from '../../functions/oci/manifest.js';
import { buildImage, buildIndex, push, remoteDigest, Rng, sha256, writeLayout } from '../support/fixtures.js';
import { createEngine } from '../support/engine.js';
import { skopeoDigest } from '../support/cli.js';
import { startFaultProxy } from '../support/fault-proxy.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1);
const engine = createEngine();
afterAll(() => engine.close());

const repo = (name: string): string => `copy/${name}-${rng.int(1e9)}`;
const layer = (kib: number): Buffer => rng.bytes(kib * 1024 + rng.int(1000));

function multiArch() {
  const amd64 = buildImage({ layers: [layer(64), layer(32)], platform: { os: 'linux', architecture: 'amd64' } });
  const arm64 = buildImage({ layers: [layer(48)], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  const armv7 = buildImage({ layers: [layer(40)], platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
  return buildIndex([
    { image: amd64, platform: { os: 'linux', architecture: 'amd64' } },
    { image: arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { image: armv7, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
  ]);
}

async function copy(from: string, to: string, options = {}) {
  const s = parseLocation(from);
  const d = parseLocation(to);
  return engine.copier.copy(engine.registries.image(s, 'source'), engine.registries.image(d, 'destination'), options);
}

describe('copy between real registries', () => {
  it('copies a multi-arch index with every platform and the digest preserved, then skips a second copy', async () => {
    const index = multiArch();
    const name = repo('multi');
    await push(src.url, name, 'v1', index);

    const first = await copy(`${src.host}/${name}:v1`, `${dst.host}/${name}:v1`);
    expect(first.status).toBe('copied');
    expect(first.digest).toBe(index.digest);
    expect(first.blobs.copied).toBe(index.children.reduce((n, c) => n + c.blobs.length, 0));
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(index.digest);
    expect(await skopeoDigest(`${dst.host}/${name}:v1`)).toBe(index.digest);
    for (const child of index.children) expect(await remoteDigest(dst.url, name, child.digest)).toBe(child.digest);

    const second = await copy(`${src.host}/${name}:v1`, `${dst.host}/${name}:v1`);
    expect(second).toMatchObject({ status: 'skipped', bytes: 0, blobs: { copied: 0, mounted: 0, skipped: 0 } });
  });

  it('finds an up-to-date image with HEADs alone: no manifest GET at the source (what Docker Hub counts as a pull)', async () => {
    const name = repo('heads');
    const image = buildImage({ layers: [layer(4)] });
    await push(src.url, name, 'v1', image);
    const proxy = await startFaultProxy(src.url);
    try {
      expect((await copy(`${proxy.host}/${name}:v1`, `${dst.host}/${name}:v1`)).status).toBe('copied');
      const gets = () => proxy.seen.filter((r) => r.method === 'GET' && r.url.includes('/manifests/')).length;
      expect(gets()).toBe(1);
      const again = await copy(`${proxy.host}/${name}:v1`, `${dst.host}/${name}:v1`);
      expect(again).toMatchObject({
        status: 'skipped',
        digest: image.digest,
        bytes: 0,
        blobs: { copied: 0, mounted: 0, skipped: 0 },
      });
      expect(gets()).toBe(1);
      // By digest, the source is not even asked.
      const before = proxy.seen.length;
      expect((await copy(`${proxy.host}/${name}@${image.digest}`, `${dst.host}/${name}:v1`)).status).toBe('skipped');
      expect(proxy.seen.slice(before).filter((r) => r.url.includes('/manifests/'))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('copies one platform as the tag with --platform', async () => {
    const index = multiArch();
    const name = repo('one-platform');
    await push(src.url, name, 'v1', index);
    const result = await copy(`${src.host}/${name}:v1`, `${dst.host}/${name}:arm64`, {
      platforms: [parsePlatform('linux/arm64')],
    });
    const arm64 = index.children[1]!;
    expect(result.digest).toBe(arm64.digest);
    expect(await skopeoDigest(`${dst.host}/${name}:arm64`)).toBe(arm64.digest);
    expect(result.blobs.copied).toBe(arm64.blobs.length);
  });

  it('builds a new index with several --platform values and says the digest changed', async () => {
    const index = multiArch();
    const name = repo('two-platforms');
    await push(src.url, name, 'v1', index);
    const result = await copy(`${src.host}/${name}:v1`, `${dst.host}/${name}:v1`, {
      platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm/v7')],
    });
    expect(result.digestChanged).toBe(true);
    expect(result.digest).not.toBe(index.digest);
    expect(await skopeoDigest(`${dst.host}/${name}:v1`)).toBe(result.digest);
    expect(await remoteDigest(dst.url, name, index.children[0]!.digest)).toBe(index.children[0]!.digest);
    expect(await remoteDigest(dst.url, name, index.children[2]!.digest)).toBe(index.children[2]!.digest);
    expect(await remoteDigest(dst.url, name, index.children[1]!.digest)).toBeUndefined();
  });

  it('fails clearly when a --platform is not in the index', async () => {
    const index = multiArch();
    const name = repo('missing-platform');
    await push(src.url, name, 'v1', index);
    await expect(
      copy(`${src.host}/${name}:v1`, `${dst.host}/${name}:v1`, { platforms: [parsePlatform('windows/amd64')] }),
    ).rejects.toThrow(/no manifest for windows\/amd64 \(available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)/);
  });

  it('copies a Docker schema 2 image and manifest list byte for byte', async () => {
    const image = buildImage({ layers: [layer(20), layer(10)], docker: true });
    const list = buildIndex([{ image, platform: { os: 'linux', architecture: 'amd64' } }], true);
    const name = repo('docker');
    await push(src.url, name, 'list', list);
    await push(src.url, name, 'single', image);
    await copy(`${src.host}/${name}:list`, `${dst.host}/${name}:list`);
    const single = await copy(`${src.host}/${name}:single`, `${dst.host}/${name}:single`);
    expect(single.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(await skopeoDigest(`${dst.host}/${name}:list`)).toBe(list.digest);
    expect(await skopeoDigest(`${dst.host}/${name}:single`)).toBe(image.digest);
  });

  it('copies an OCI artifact with artifactType and a custom config media type', async () => {
    const artifact = buildImage({
      artifactType: 'application/vnd.example.chart.v1',
      configMediaType: 'application/vnd.oci.empty.v1+json',
      config: Buffer.from('{}'),
      layers: [layer(5)],
      layerMediaType: 'application/vnd.example.chart.content.v1.tar+gzip',
    });
    const name = repo('artifact');
    await push(src.url, name, '1.0.0', artifact);
    const result = await copy(`${src.host}/${name}:1.0.0`, `${dst.host}/${name}:1.0.0`);
    expect(result.digest).toBe(artifact.digest);
    expect(await skopeoDigest(`${dst.host}/${name}:1.0.0`)).toBe(artifact.digest);
  });

  it('copies by digest and keeps the digest', async () => {
    const image = buildImage({ layers: [layer(8)] });
    const name = repo('by-digest');
    await push(src.url, name, image.digest, image);
    const result = await copy(`${src.host}/${name}@${image.digest}`, `${dst.host}/${name}@${image.digest}`);
    expect(result.destination).toBe(`${dst.host}/${name}@${image.digest}`);
    expect(await remoteDigest(dst.url, name, image.digest)).toBe(image.digest);
  });

  it('mounts a blob that another repository of the destination already holds', async () => {
    const shared = layer(128);
    const a = buildImage({ layers: [shared, layer(4)] });
    const b = buildImage({ layers: [shared, layer(4)] });
    const first = repo('mount-a');
    const second = repo('mount-b');
    await push(src.url, first, 'v1', a);
    await push(src.url, second, 'v1', b);
    const one = await copy(`${src.host}/${first}:v1`, `${dst.host}/${first}:v1`);
    expect(one.blobs.copied).toBe(3);
    const two = await copy(`${src.host}/${second}:v1`, `${dst.host}/${second}:v1`);
    expect(two.blobs).toEqual({ copied: 2, mounted: 1, skipped: 0 });
    expect(two.bytes).toBe(b.blobs.filter((x) => x.data !== shared).reduce((n, x) => n + x.size, 0));
    expect(await skopeoDigest(`${dst.host}/${second}:v1`)).toBe(b.digest);
  });

  it('mounts from the source repository when source and destination are one registry', async () => {
    const image = buildImage({ layers: [layer(16)] });
    const name = repo('same-registry');
    await push(src.url, name, 'v1', image);
    const result = await copy(`${src.host}/${name}:v1`, `${src.host}/${name}-copy:v1`);
    expect(result.blobs).toEqual({ copied: 0, mounted: 2, skipped: 0 });
    expect(result.bytes).toBe(0);
    expect(await remoteDigest(src.url, `${name}-copy`, 'v1')).toBe(image.digest);
  });

  it('round-trips registry → oci: layout → registry with identical digests', async () => {
    const index = multiArch();
    const name = repo('layout');
    await push(src.url, name, 'v1', index);
    const dir = mkdtempSync(join(tmpdir(), 'ferry-layout-'));
    const out = await copy(`${src.host}/${name}:v1`, `oci:${dir}:v1`);
    expect(out.digest).toBe(index.digest);
    const back = await copy(`oci:${dir}:v1`, `${dst.host}/${name}-back:v1`);
    expect(back.digest).toBe(index.digest);
    expect(await skopeoDigest(`${dst.host}/${name}-back:v1`)).toBe(index.digest);
    const again = await copy(`${src.host}/${name}:v1`, `oci:${dir}:v1`);
    expect(again.status).toBe('skipped');
  });

  it('round-trips a multi-megabyte layer through oci: layouts on pooled buffers, byte for byte', async () => {
    // 3 MiB and change: many pooled reads on every leg (registry GET, file write, file read, upload, layout to layout).
    const image = buildImage({ layers: [layer(3 * 1024 + 5), layer(700)] });
    const name = repo('layout-big');
    await push(src.url, name, 'v1', image);
    const first = mkdtempSync(join(tmpdir(), 'ferry-layout-'));
    const second = mkdtempSync(join(tmpdir(), 'ferry-layout-'));
    expect((await copy(`${src.host}/${name}:v1`, `oci:${first}:v1`)).digest).toBe(image.digest);
    expect((await copy(`oci:${first}:v1`, `oci:${second}:v1`)).digest).toBe(image.digest);
    expect((await copy(`oci:${second}:v1`, `${dst.host}/${name}-back:v1`)).digest).toBe(image.digest);
    expect(await skopeoDigest(`${dst.host}/${name}-back:v1`)).toBe(image.digest);
    for (const blob of image.blobs) {
      const stored = readFileSync(join(second, 'blobs', 'sha256', blob.digest.slice(7)));
      expect(sha256(stored)).toBe(blob.digest);
    }
  });

  it('reads an oci: layout written by another tool', async () => {
    const image = buildImage({ layers: [layer(12)] });
    const dir = mkdtempSync(join(tmpdir(), 'ferry-layout-'));
    await writeLayout(dir, 'v2', image);
    const name = repo('from-layout');
    const result = await copy(`oci:${dir}:v2`, `${dst.host}/${name}:v2`);
    expect(result.digest).toBe(image.digest);
    expect(await skopeoDigest(`${dst.host}/${name}:v2`)).toBe(image.digest);
  });

  it('reports a missing source image as not found, naming registry and repository', async () => {
    const name = repo('absent');
    await expect(copy(`${src.host}/${name}:nope`, `${dst.host}/${name}:nope`)).rejects.toThrow(
      new RegExp(`${src.host}/${name}: not found`),
    );
    expect(parseImageReference(`${dst.host}/${name}:nope`).tag).toBe('nope');
  });
});

describe('non-distributable (foreign) layers', () => {
  it('leaves them where their urls point unless asked, and copies them with includeForeignLayers', async () => {
    const foreignData = layer(6);
    const image = buildImage({ layers: [layer(10)], docker: true });
    const foreign = {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      digest: sha256(foreignData),
      size: foreignData.length,
      urls: ['https://example.invalid/windows-base.tar.gz'],
    };
    const doc = JSON.parse(image.bytes.toString()) as { layers: object[] };
    doc.layers.unshift(foreign);
    const bytes = Buffer.from(JSON.stringify(doc));
    const withForeign = {
      ...image,
      bytes,
      digest: sha256(bytes),
      blobs: [...image.blobs, { ...foreign, data: foreignData }],
    };
    const name = repo('foreign');
    await push(src.url, name, 'v1', withForeign);

    const plain = await copy(`${src.host}/${name}:v1`, `${dst.host}/${name}:v1`);
    expect(plain.digest).toBe(withForeign.digest);
    expect(plain.blobs.copied).toBe(2);
    expect((await fetch(`${dst.url}/v2/${name}/blobs/${foreign.digest}`, { method: 'HEAD' })).status).toBe(404);

    const all = await copy(`${src.host}/${name}:v1`, `${dst.host}/${name}-all:v1`, { includeForeignLayers: true });
    expect(all.blobs).toEqual({ copied: 1, mounted: 2, skipped: 0 });
    expect((await fetch(`${dst.url}/v2/${name}-all/blobs/${foreign.digest}`, { method: 'HEAD' })).status).toBe(200);
  });
});
