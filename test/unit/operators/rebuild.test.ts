import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../functions/oci/digest.js';
import { parseCatalog } from '../../../functions/mirror/operators/fbc.js';
import {
  appendLayerToConfig,
  appendLayerToManifest,
  catalogLayerHistory,
  replaceIndexManifests,
} from '../../../functions/mirror/operators/image-update.js';
import { rebuildCatalogImage } from '../../../functions/mirror/operators/rebuild-image.js';
import { buildCatalogLayer, cacheDirOf, configsDirOf } from '../../../functions/mirror/operators/rebuild.js';
import { selectCatalog } from '../../../functions/mirror/operators/select.js';
import { writeCatalog } from '../../../functions/mirror/operators/write.js';
import { catalogFixtureConfig, catalogFixtureFiles, catalogFixtureLayer } from '../../support/catalog-fixture.js';

const host = 'mirror.invalid:5000';
const catalog = parseCatalog(catalogFixtureFiles(host));
const sha256 = (b: Buffer) => digestOf(b);

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  content: Buffer;
}

async function readTarGz(bytes: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      const h = entry.header;
      out.push({
        name: h.name,
        type: h.type ?? '',
        mode: h.mode ?? -1,
        uid: h.uid ?? -1,
        gid: h.gid ?? -1,
        mtime: h.mtime?.getTime() ?? -1,
        content: Buffer.concat(chunks),
      });
    }
  })();
  ex.end(gunzipSync(bytes));
  await done;
  return out;
}

/** Unpacks layers bottom-up applying whiteouts (OCI image-spec layer.md): the resulting files. */
function applyLayers(layers: readonly TarEntry[][]): Map<string, Buffer> {
  const fs = new Map<string, Buffer>();
  const dropUnder = (dir: string) =>
    [...fs.keys()].filter((k) => k === dir || k.startsWith(`${dir}/`)).forEach((k) => fs.delete(k));
  for (const layer of layers) {
    for (const e of layer) {
      const base = e.name.split('/').pop()!;
      const parent = e.name.slice(0, e.name.length - base.length).replace(/\/$/, '');
      if (base === '.wh..wh..opq')
        [...fs.keys()].filter((k) => k.startsWith(`${parent}/`)).forEach((k) => fs.delete(k));
      else if (base.startsWith('.wh.')) dropUnder(`${parent === '' ? '' : `${parent}/`}${base.slice(4)}`);
    }
    for (const e of layer)
      if (e.type === 'file' && !e.name.split('/').pop()!.startsWith('.wh.')) fs.set(e.name, e.content);
  }
  return fs;
}

describe('buildCatalogLayer', () => {
  const config = JSON.parse(catalogFixtureConfig([]).toString()).config;
  const files = writeCatalog(selectCatalog(catalog, { packages: [{ name: 'beta-operator' }] }).catalog);
  const build = () => buildCatalogLayer({ files, configsDir: configsDirOf(config), cacheDir: cacheDirOf(config) });

  it('finds the configs directory and the opm cache from the image config', () => {
    expect([configsDirOf(config), cacheDirOf(config)]).toEqual(['/configs', '/tmp/cache']);
    expect(configsDirOf({ Labels: { 'operators.operatorframework.io.index.configs.v1': '/srv/catalog' } })).toBe(
      '/srv/catalog',
    );
    expect(configsDirOf(undefined)).toBe('/configs');
    expect(cacheDirOf({ Cmd: ['serve', '/configs', '--cache-dir', '/var/cache/opm'] })).toBe('/var/cache/opm');
    expect(
      cacheDirOf({ Labels: { 'operators.operatorframework.io.index.cache.v1': '/c' }, Cmd: ['--cache-dir=/x'] }),
    ).toBe('/c');
    expect(cacheDirOf({ Cmd: ['serve', '/configs'] })).toBe('/tmp/cache');
  });

  it('holds the opaque whiteout, the filtered catalog and the cache whiteout, sorted, owned by root, mtime 0', async () => {
    const layer = await build();
    const entries = await readTarGz(layer.bytes);
    expect(entries.map((e) => `${e.type} ${e.name}`)).toEqual(
      [
        'directory configs/',
        'file configs/.wh..wh..opq',
        'file configs/beta-operator/catalog.json',
        'directory configs/beta-operator/',
        'file configs/catalog.json',
        'file tmp/.wh.cache',
      ].sort((a, b) => (a.split(' ')[1]! < b.split(' ')[1]! ? -1 : 1)),
    );
    expect(layer.entries).toEqual(entries.map((e) => e.name));
    expect(new Set(entries.map((e) => `${e.uid}:${e.gid}:${e.mtime}`))).toEqual(new Set(['0:0:0']));
    expect(entries.find((e) => e.name === 'configs/beta-operator/catalog.json')!.content).toEqual(
      files.get('beta-operator/catalog.json'),
    );
    expect(entries.find((e) => e.name === 'configs/beta-operator/')!.mode).toBe(0o755);
  });

  it('reports the digest of the gzip bytes and the diff_id of the tar, the same on every build', async () => {
    const [a, b] = [await build(), await build()];
    expect(a.digest).toBe(sha256(a.bytes));
    expect(a.size).toBe(a.bytes.length);
    expect(a.diffId).toBe(sha256(gunzipSync(a.bytes)));
    expect([b.digest, b.diffId]).toEqual([a.digest, a.diffId]);
    const other = await buildCatalogLayer({
      files: writeCatalog(selectCatalog(catalog, {}).catalog),
      configsDir: '/configs',
      cacheDir: '/tmp/cache',
    });
    expect(other.digest).not.toBe(a.digest);
  });

  it('over the original catalog layer, leaves exactly the selection and no opm cache', async () => {
    const base = await catalogFixtureLayer(host);
    const fs = applyLayers([await readTarGz(base.bytes), await readTarGz((await build()).bytes)]);
    expect([...fs.keys()].sort()).toEqual(['configs/beta-operator/catalog.json', 'configs/catalog.json']);
    const served = parseCatalog(new Map([...fs].map(([k, v]) => [k.slice('configs/'.length), v])));
    expect(served.bundles.map((b) => b.name)).toEqual(['beta.v0.2.0']);
    expect(served.packages.map((p) => p.name)).toEqual(['beta-operator']);
  });

  it('refuses paths that climb out of the configs directory', async () => {
    await expect(
      buildCatalogLayer({
        files: new Map([['../etc/passwd', Buffer.from('x')]]),
        configsDir: '/configs',
        cacheDir: '/tmp/cache',
      }),
    ).rejects.toMatchObject({ name: 'CatalogError', code: 'CATALOG_INVALID' });
    await expect(buildCatalogLayer({ files, configsDir: '/', cacheDir: '/tmp/cache' })).rejects.toMatchObject({
      name: 'CatalogError',
    });
  });
});

describe('appendLayerToConfig / appendLayerToManifest', () => {
  const baseDiff = sha256(Buffer.from('base'));
  const layer = { diffId: sha256(Buffer.from('tar')), digest: sha256(Buffer.from('gz')), size: 123 };

  it('appends the diff_id and a history entry and runs opm without the removed cache', () => {
    const out = appendLayerToConfig(catalogFixtureConfig([baseDiff]), layer, '/configs');
    const config = JSON.parse(out.bytes.toString());
    expect(out.digest).toBe(sha256(out.bytes));
    expect(out.size).toBe(out.bytes.length);
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [baseDiff, layer.diffId] });
    expect(config.history).toEqual([
      { created: '2026-01-01T00:00:00Z', created_by: 'ADD catalog /configs' },
      catalogLayerHistory,
    ]);
    expect(config.config).toEqual({
      Entrypoint: ['/bin/opm'],
      Cmd: ['serve', '/configs'],
      Labels: { 'operators.operatorframework.io.index.configs.v1': '/configs' },
    });
    expect([config.architecture, config.os]).toEqual(['amd64', 'linux']);
  });

  it('points the manifest at the new config and appends the layer in the manifest family', () => {
    const config = { digest: sha256(Buffer.from('config')), size: 77 };
    const base = {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha256(Buffer.from('l0')),
      size: 10,
    };
    const oci = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(Buffer.from('old')), size: 5 },
        layers: [base],
        annotations: { a: 'b' },
      }),
    );
    const out = appendLayerToManifest(oci, config, layer);
    expect(out.digest).toBe(sha256(out.bytes));
    expect(out.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(JSON.parse(out.bytes.toString())).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [base, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: 123 }],
      annotations: { a: 'b' },
    });
    const docker = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config.digest, size: 1 },
        layers: [],
      }),
    );
    const d = appendLayerToManifest(docker, config, layer);
    expect(d.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(JSON.parse(d.bytes.toString()).layers).toEqual([
      { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layer.digest, size: 123 },
    ]);
  });

  it('refuses an index or a config without rootfs', () => {
    expect(() => appendLayerToManifest(Buffer.from('{"schemaVersion":2,"manifests":[]}'), layer, layer)).toThrow(
      expect.objectContaining({ name: 'CatalogError', code: 'CATALOG_INVALID' }),
    );
    expect(() => appendLayerToConfig(Buffer.from('{"config":{}}'), layer, '/configs')).toThrow(
      expect.objectContaining({ code: 'CATALOG_INVALID' }),
    );
  });
});

describe('replaceIndexManifests', () => {
  const amd = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256(Buffer.from('amd')),
    size: 10,
    platform: { architecture: 'amd64', os: 'linux' },
  };
  const arm = { ...amd, digest: sha256(Buffer.from('arm')), platform: { architecture: 'arm64', os: 'linux' } };
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [amd, arm] }),
  );

  it('swaps the rebuilt platform manifests, keeping platforms and the rest', () => {
    const next = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256(Buffer.from('amd2')),
      size: 11,
    };
    const out = replaceIndexManifests(index, new Map([[amd.digest, next]]));
    expect(out.digest).toBe(sha256(out.bytes));
    expect(out.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(JSON.parse(out.bytes.toString()).manifests).toEqual([{ ...amd, ...next }, arm]);
  });

  it('refuses a replacement for a manifest the index does not have', () => {
    const stray = { mediaType: 'x', digest: sha256(Buffer.from('x')), size: 1 };
    expect(() => replaceIndexManifests(index, new Map([[stray.digest, stray]]))).toThrow(
      expect.objectContaining({ name: 'CatalogError', code: 'CATALOG_INVALID' }),
    );
  });
});

describe('rebuildCatalogImage', () => {
  it('rebuilds one platform of the fixture catalog image: layer, config and manifest agree', async () => {
    const base = await catalogFixtureLayer(host);
    const configBytes = catalogFixtureConfig([base.diffId]);
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: digestOf(configBytes),
          size: configBytes.length,
        },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: base.digest, size: base.size }],
      }),
    );
    const selection = selectCatalog(catalog, { packages: [{ name: 'gamma-operator' }] });
    const out = await rebuildCatalogImage({ catalog: selection.catalog, configBytes, manifestBytes });
    expect([out.configsDir, out.cacheDir]).toEqual(['/configs', '/tmp/cache']);
    const manifest = JSON.parse(out.manifest.bytes.toString());
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: out.config.digest,
      size: out.config.size,
    });
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual([base.digest, out.layer.digest]);
    expect(JSON.parse(out.config.bytes.toString()).rootfs.diff_ids).toEqual([base.diffId, out.layer.diffId]);
    const fs = applyLayers([await readTarGz(base.bytes), await readTarGz(out.layer.bytes)]);
    expect([...fs.keys()].sort()).toEqual(['configs/catalog.json', 'configs/gamma-operator/catalog.json']);
    expect(out.manifest.digest).toBe(digestOf(out.manifest.bytes));
  });
});
