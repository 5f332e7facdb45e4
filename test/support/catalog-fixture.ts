import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { gunzipSync } from 'node:zlib';
import { type BuiltManifest, buildImage, buildIndex, push, type Rng } from './fixtures.js';
import { tarLayer } from './release-fixture.js';

// A small file-based catalog for tests (issue 10 "Done when"): three packages, two channels in
// one, `replaces` / `skips` / `skipRange` edges, bundles with related images on a placeholder
// registry host the caller passes (nothing here resolves it), documents of other schemas, in the
// three shapes opm reads: concatenated JSON (opm render), YAML documents, and one JSON object.
//
// alpha-operator  stable (default): v1.0.0 ← v1.1.0 ← v1.2.0 ← v1.3.0 (replaces chain),
//                                   v1.1.1 replaces v1.1.0 and is skipped by v1.2.0
//                                   (v1.2.0 also has skipRange >=1.0.0 <1.2.0)
//                 fast:             v1.3.0 ← v2.0.0
// beta-operator   stable-v1 (default): v0.1.0 ← v0.2.0 (with skipRange >=0.0.1 <0.2.0)
// gamma-operator  stable (default): v3.0.0

/** A fake digest derived from a name, so images are stable and distinct. */
export function fakeDigest(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

/** The shared proxy image every alpha and beta bundle names (to test deduplication). */
export function proxyImage(host: string, digest: (name: string) => string = fakeDigest): string {
  return `${host}/shared/kube-rbac-proxy@${digest('kube-rbac-proxy')}`;
}

function bundle(
  host: string,
  pkg: string,
  short: string,
  version: string,
  displayName: string,
  shared: boolean,
  digest: (name: string) => string,
): object {
  const name = `${short}.v${version}`;
  const image = `${host}/${pkg}/bundle@${digest(`${name}-bundle`)}`;
  const related = [
    { name: '', image },
    { name: 'operator', image: `${host}/${pkg}/operator@${digest(`${name}-operator`)}` },
    ...(shared ? [{ name: 'proxy', image: proxyImage(host, digest) }] : []),
  ];
  return {
    schema: 'olm.bundle',
    name,
    package: pkg,
    image,
    properties: [
      { type: 'olm.package', value: { packageName: pkg, version } },
      { type: 'olm.gvk', value: { group: `${short}.example.com`, kind: 'Thing', version: 'v1' } },
      { type: 'olm.csv.metadata', value: { displayName, keywords: [short] } },
    ],
    relatedImages: related,
  };
}

const alphaVersions = ['1.0.0', '1.1.0', '1.1.1', '1.2.0', '1.3.0', '2.0.0'];

/**
 * The catalog's files, relative to the configs directory (`/configs`). `digest` names each image
 * (`alpha.v1.0.0-bundle`, `alpha.v1.0.0-operator`, `kube-rbac-proxy`): fake by default, the digests
 * of pushed images in integration tests.
 */
export function catalogFixtureFiles(host: string, digest: (name: string) => string = fakeDigest): Map<string, Buffer> {
  const alpha = [
    { schema: 'olm.package', name: 'alpha-operator', defaultChannel: 'stable', description: 'Alpha <operator> & co' },
    {
      schema: 'olm.channel',
      name: 'stable',
      package: 'alpha-operator',
      entries: [
        { name: 'alpha.v1.0.0' },
        { name: 'alpha.v1.1.0', replaces: 'alpha.v1.0.0' },
        { name: 'alpha.v1.1.1', replaces: 'alpha.v1.1.0' },
        { name: 'alpha.v1.2.0', replaces: 'alpha.v1.1.0', skips: ['alpha.v1.1.1'], skipRange: '>=1.0.0 <1.2.0' },
        { name: 'alpha.v1.3.0', replaces: 'alpha.v1.2.0' },
      ],
    },
    {
      schema: 'olm.channel',
      name: 'fast',
      package: 'alpha-operator',
      entries: [{ name: 'alpha.v1.3.0' }, { name: 'alpha.v2.0.0', replaces: 'alpha.v1.3.0' }],
    },
    ...alphaVersions.map((v) => bundle(host, 'alpha-operator', 'alpha', v, `Alpha ${v}`, true, digest)),
    {
      schema: 'olm.deprecations',
      package: 'alpha-operator',
      entries: [
        { reference: { schema: 'olm.bundle', name: 'alpha.v1.0.0' }, message: 'alpha.v1.0.0 is deprecated' },
        { reference: { schema: 'olm.channel', name: 'fast' }, message: 'fast is deprecated' },
        { reference: { schema: 'olm.package' }, message: 'alpha-operator is deprecated' },
      ],
    },
  ];
  const alphaJson = alpha.map((doc) => `${JSON.stringify(doc, null, 4)}\n`).join('');
  const beta = [
    'schema: olm.package',
    'name: beta-operator',
    'defaultChannel: stable-v1',
    '---',
    'schema: olm.channel',
    'name: stable-v1',
    'package: beta-operator',
    'entries:',
    '  - name: beta.v0.1.0',
    '  - name: beta.v0.2.0',
    '    replaces: beta.v0.1.0',
    "    skipRange: '>=0.0.1 <0.2.0'",
    '',
  ].join('\n');
  const betaBundles = ['0.1.0', '0.2.0'].map(
    (v) => `---\n${JSON.stringify(bundle(host, 'beta-operator', 'beta', v, 'Beta', true, digest))}\n`,
  );
  const gamma = [
    { schema: 'olm.package', name: 'gamma-operator', defaultChannel: 'stable' },
    { schema: 'olm.channel', name: 'stable', package: 'gamma-operator', entries: [{ name: 'gamma.v3.0.0' }] },
    bundle(host, 'gamma-operator', 'gamma', '3.0.0', 'Gamma', false, digest),
    { schema: 'acme.example.notes', package: 'gamma-operator', zeta: 1, alpha: { b: 2, a: [1] } },
  ];
  return new Map([
    ['alpha-operator/catalog.json', Buffer.from(alphaJson)],
    ['beta-operator/catalog.yaml', Buffer.from(beta + betaBundles.join(''))],
    ['gamma-operator/catalog.json', Buffer.from(gamma.map((d) => JSON.stringify(d)).join('\n'))],
    [
      'catalog.json',
      Buffer.from(JSON.stringify({ schema: 'acme.example.global', name: 'notes', text: 'root document' })),
    ],
    ['.indexignore', Buffer.from('*.md\n')],
  ]);
}

/** A catalog image layer: `configs/…` with the fixture and a fake opm cache in `tmp/cache/`. */
export async function catalogFixtureLayer(
  host: string,
  digest: (name: string) => string = fakeDigest,
): Promise<{ bytes: Buffer; digest: string; diffId: string; size: number }> {
  const tar = pack();
  const header = { uid: 0, gid: 0, mtime: new Date(0) };
  tar.entry({ ...header, name: 'configs/', type: 'directory', mode: 0o755 });
  for (const [path, bytes] of [...catalogFixtureFiles(host, digest)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    tar.entry({ ...header, name: `configs/${path}`, type: 'file', mode: 0o644, size: bytes.length }, bytes);
  }
  tar.entry({ ...header, name: 'tmp/cache/', type: 'directory', mode: 0o755 });
  const cache = Buffer.from('{"fake":"opm cache"}');
  tar.entry({ ...header, name: 'tmp/cache/cache.json', type: 'file', mode: 0o644, size: cache.length }, cache);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const bytes = gzipSync(raw);
  return { bytes, digest: sha256(bytes), diffId: sha256(raw), size: bytes.length };
}

/** The catalog image's config as opm's generated Dockerfile leaves it (label, cache flag in Cmd). */
export function catalogFixtureConfig(diffIds: readonly string[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: ['/bin/opm'],
        Cmd: ['serve', '/configs', '--cache-dir=/tmp/cache'],
        Labels: { 'operators.operatorframework.io.index.configs.v1': '/configs' },
      },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'ADD catalog /configs' })),
    }),
  );
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The registry path of a fixture image by its fixture name (`alpha.v1.2.0-bundle` → `alpha-operator/bundle`). */
export function catalogFixtureRepository(name: string): string {
  return name === 'kube-rbac-proxy'
    ? 'shared/kube-rbac-proxy'
    : `${name.split('.')[0]}-operator/${name.endsWith('-bundle') ? 'bundle' : 'operator'}`;
}

/** What {@link pushCatalogFixture} pushed: the catalog index and every image the catalog names, by fixture name. */
export interface PushedCatalog {
  readonly catalog: BuiltManifest;
  readonly images: ReadonlyMap<string, BuiltManifest>;
  /** The files of the base layer the catalog image carries under its configs (left as they are by a rebuild). */
  readonly baseFiles: Readonly<Record<string, string>>;
}

/**
 * Pushes the fixture as a real two-platform catalog image (a base layer + the configs layer with an
 * opm cache) to `<ns>/catalog/operator-index:v1`, and every bundle and related image it names (each a
 * small distinct image) under `<ns>/<catalogFixtureRepository(name)>` by digest; `host` is how the
 * catalog names the registry (`<host>/<ns>`).
 */
export async function pushCatalogFixture(options: {
  baseUrl: string;
  host: string;
  ns: string;
  rng: Rng;
}): Promise<PushedCatalog> {
  const { baseUrl, ns, rng } = options;
  const images = new Map<string, BuiltManifest>();
  const digestFor = (name: string): string => {
    let image = images.get(name);
    if (image === undefined) {
      image = buildImage({ layers: [Buffer.from(`${ns} ${name} ${rng.int(1e9)}`)] });
      images.set(name, image);
    }
    return image.digest;
  };
  const layer = await catalogFixtureLayer(`${options.host}/${ns}`, digestFor);
  const baseFiles = { 'bin/opm': 'opm binary', 'etc/catalog-notes.txt': 'left as it is' };
  const base = await tarLayer(Object.entries(baseFiles).map(([name, data]) => ({ name, data })));
  const diffIds = [sha256(gunzipSync(base)), layer.diffId];
  const platform = (architecture: string): BuiltManifest => {
    const cfg = JSON.parse(catalogFixtureConfig(diffIds).toString()) as { architecture: string };
    return buildImage({
      layers: [base, layer.bytes],
      config: Buffer.from(JSON.stringify({ ...cfg, architecture })),
      platform: { os: 'linux', architecture },
    });
  };
  const catalog = buildIndex([
    { image: platform('amd64'), platform: { os: 'linux', architecture: 'amd64' } },
    { image: platform('arm64'), platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  await push(baseUrl, `${ns}/catalog/operator-index`, 'v1', catalog);
  for (const [name, image] of images)
    await push(baseUrl, `${ns}/${catalogFixtureRepository(name)}`, image.digest, image);
  return { catalog, images, baseFiles };
}
