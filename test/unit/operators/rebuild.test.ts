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

describe('writeCatalog', () => {
  const selection = selectCatalog(catalog, {
    packages: [
      { name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.1.0' }] },
      { name: 'gamma-operator' },
    ],
  });
  const files = writeCatalog(selection.catalog);

  it('writes one catalog.json per package and a root one, as opm renders', () => {
    expect([...files.keys()]).toEqual(['alpha-operator/catalog.json', 'gamma-operator/catalog.json', 'catalog.json']);
    const gamma = files.get('gamma-operator/catalog.json')!.toString();
    expect(
      gamma.startsWith(
        '{\n    "schema": "olm.package",\n    "name": "gamma-operator",\n    "defaultChannel": "stable"\n}\n{\n    "schema": "olm.channel",\n    "name": "stable",\n    "package": "gamma-operator",\n    "entries": [\n        {\n            "name": "gamma.v3.0.0"\n        }\n    ]\n}\n{\n    "schema": "olm.bundle",\n    "name": "gamma.v3.0.0",\n',
      ),
    ).toBe(true);
    expect(
      gamma.endsWith(
        '{\n    "alpha": {\n        "a": [\n            1\n        ],\n        "b": 2\n    },\n    "package": "gamma-operator",\n    "schema": "acme.example.notes",\n    "zeta": 1\n}\n',
      ),
    ).toBe(true);
    expect(files.get('alpha-operator/catalog.json')!.toString()).toContain('"description": "Alpha <operator> & co"');
    expect(files.get('catalog.json')!.toString()).toBe(
      '{\n    "name": "notes",\n    "schema": "acme.example.global",\n    "text": "root document"\n}\n',
    );
  });

  it('round-trips: parsing the written files gives the selection back', () => {
    const back = parseCatalog(files);
    const sorted = <T>(xs: readonly T[], key: (x: T) => string) =>
      [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    expect(sorted(back.bundles, (b) => b.name)).toEqual(selection.bundles);
    expect(back.packages).toEqual(selection.catalog.packages);
    expect(sorted(back.channels, (c) => `${c.package}/${c.name}`)).toEqual(
      sorted(selection.catalog.channels, (c) => `${c.package}/${c.name}`),
    );
    expect(sorted(back.others, (o) => o.schema)).toEqual(sorted(selection.catalog.others, (o) => o.schema));
    expect(back.bundles.map((b) => b.name)).toEqual([
      'alpha.v1.1.0',
      'alpha.v1.1.1',
      'alpha.v1.2.0',
      'alpha.v1.3.0',
      'gamma.v3.0.0',
    ]);
  });

  it('is deterministic', () => {
    const again = writeCatalog(
      selectCatalog(catalog, {
        packages: [
          { name: 'gamma-operator' },
          { name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.1.0' }] },
        ],
      }).catalog,
    );
    expect([...again].map(([k, v]) => [k, sha256(v)])).toEqual([...files].map(([k, v]) => [k, sha256(v)]));
  });
});

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

describe('writeCatalog refuses', () => {
  it('a package name that is not a single path element', () => {
    const bad = {
      ...catalog,
      packages: [{ name: '../up', defaultChannel: '' }],
      channels: [],
      bundles: [],
      others: [],
    };
    expect(() => writeCatalog(bad)).toThrow(expect.objectContaining({ name: 'CatalogError', code: 'CATALOG_INVALID' }));
  });
});
