import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ImageSetError, parseImageSet } from '../../../functions/mirror/image-set/document.js';
import { expandImageSet, expandImageSetContent } from '../../../functions/mirror/image-set/expand.js';
import { pushRebuiltCatalog } from '../../../functions/mirror/operators/push-catalog.js';
import type { ImageReference } from '../../../functions/oci/reference.js';
import { catalogFixtureConfig, catalogFixtureLayer, fakeDigest, proxyImage } from '../../support/catalog-fixture.js';
import { type BuiltManifest, buildImage, buildIndex, sha256 } from '../../support/fixtures.js';
import { memoryRegistry, type MemoryRepository } from '../../support/memory-repository.js';
import { storeBuilt, tarLayer } from '../../support/release-fixture.js';

const host = 'quay.io/acme';
const doc = (mirror: object): unknown => ({
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror,
});
const operator = (extra: object = {}): object => ({ catalog: `${host}/index:v1`, ...extra });

function failure(input: unknown): ImageSetError {
  try {
    parseImageSet(input);
  } catch (err) {
    if (err instanceof ImageSetError) return err;
    throw err;
  }
  throw new Error('parsed');
}

/** A catalog image of the fixture: one platform, or an index of amd64 and arm64. */
async function catalogImage(multi: boolean): Promise<BuiltManifest> {
  const layer = await catalogFixtureLayer(host);
  const base = await tarLayer([{ name: 'bin/opm', data: 'opm' }]);
  const diffIds = [sha256(gunzipSync(base)), layer.diffId];
  const image = (architecture: string): BuiltManifest => {
    const cfg = JSON.parse(catalogFixtureConfig(diffIds).toString()) as object;
    return buildImage({ layers: [base, layer.bytes], config: Buffer.from(JSON.stringify({ ...cfg, architecture })) });
  };
  if (!multi) return image('amd64');
  return buildIndex([
    { image: image('amd64'), platform: { os: 'linux', architecture: 'amd64' } },
    { image: image('arm64'), platform: { os: 'linux', architecture: 'arm64' } },
  ]);
}

async function sources(multi = false) {
  const registry = memoryRegistry('quay.io');
  const index = registry('acme/index');
  const built = await catalogImage(multi);
  storeBuilt(index, built, 'v1');
  const sources = {
    listTags: async () => [],
    repository: (ref: ImageReference): MemoryRepository => {
      if (ref.repository !== 'acme/index') throw new Error(`unexpected read of ${ref.repository}`);
      return index;
    },
  };
  return { sources, built, index };
}

const filter = {
  packages: [
    { name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.2.0' }] },
    { name: 'gamma-operator' },
  ],
};
/** What `filter` selects: alpha 1.2.0 and 1.3.0 (bundle, operator, the shared proxy), gamma 3.0.0. */
const selectedImages = (): string[] =>
  [
    ...['alpha.v1.2.0', 'alpha.v1.3.0'].flatMap((b) => [
      `${host}/alpha-operator/bundle@${fakeDigest(`${b}-bundle`)}`,
      `${host}/alpha-operator/operator@${fakeDigest(`${b}-operator`)}`,
    ]),
    `${host}/gamma-operator/bundle@${fakeDigest('gamma.v3.0.0-bundle')}`,
    `${host}/gamma-operator/operator@${fakeDigest('gamma.v3.0.0-operator')}`,
    proxyImage(host),
  ].sort();

describe('parseImageSet: mirror.operators', () => {
  it('reads catalogs, targets and package filters as oc-mirror names them', () => {
    const { set, warnings } = parseImageSet(
      doc({ operators: [operator({ targetCatalog: 'my-org/index', targetTag: 'v2', ...filter }), operator()] }),
    );
    expect(warnings).toEqual([]);
    expect(set.operators).toEqual([
      { catalog: `${host}/index:v1`, targetCatalog: 'my-org/index', targetTag: 'v2', ...filter },
      { catalog: `${host}/index:v1` },
    ]);
  });

  it.each([
    ['mirror.operators[0].packages[0].selectedBundles', operator({ packages: [{ name: 'a', selectedBundles: [] }] })],
    ['mirror.operators[0].skipDependencies', operator({ skipDependencies: true })],
    ['mirror.operators[0].targetTag', { catalog: `${host}/index@${fakeDigest('x')}` }],
    ['mirror.operators[0].targetCatalog', operator({ targetCatalog: 'Bad Path' })],
    ['mirror.operators[0].packages[0].minVersion', operator({ packages: [{ name: 'a', minVersion: 'one' }] })],
    [
      'mirror.operators[0].packages',
      operator({ packages: [{ name: 'a', minVersion: '1.0.0', channels: [{ name: 's', maxVersion: '2.0.0' }] }] }),
    ],
    ['mirror.operators[0].packages[0].nam', operator({ packages: [{ nam: 'a' }] })],
  ])('refuses %s', (path, op) => {
    expect(failure(doc({ operators: [op] })).path).toBe(path);
  });
});

describe('expandImageSetContent: mirror.operators', () => {
  it('mirrors every selected bundle and related image by digest and describes the rebuilt catalog', async () => {
    const { sources: src, built } = await sources();
    const { set } = parseImageSet(doc({ operators: [operator({ targetCatalog: 'my/index', ...filter })] }));
    const { images, artifacts } = await expandImageSetContent(set, src, { registry: 'mirror.test', prefix: 'ocp' });
    expect(images).toEqual(
      selectedImages().map((source) => ({
        source,
        destination: source.replace('quay.io/', 'mirror.test/ocp/'),
        byDigest: true,
      })),
    );
    expect(artifacts).toHaveLength(1);
    const [artifact] = artifacts;
    expect(artifact!.source).toBe(`${host}/index:v1`);
    expect(artifact!.sourceDigest).toBe(`${host}/index@${built.digest}`);
    expect(artifact!.destination).toBe('mirror.test/ocp/my/index:v1');
    expect([...artifact!.rebuild.keys()]).toEqual([built.digest]);
    const rebuilt = artifact!.rebuild.get(built.digest as never)!;
    expect(rebuilt.bundles.map((b) => b.name)).toEqual(['alpha.v1.2.0', 'alpha.v1.3.0', 'gamma.v3.0.0']);
  });

  it('reads every platform of an index; keeps images named earlier once; marks blocked ones', async () => {
    const { sources: src, built, index } = await sources(true);
    const first = selectedImages()[0]!;
    const { set } = parseImageSet(
      doc({
        additionalImages: [{ name: first }],
        blockedImages: [{ name: 'gamma-operator/operator' }],
        operators: [operator({ targetTag: 'filtered', ...filter })],
      }),
    );
    const { images, artifacts } = await expandImageSetContent(set, src, { registry: 'mirror.test' });
    expect(images.map((i) => i.source)).toEqual(selectedImages());
    expect(images.filter((i) => i.blocked).map((i) => i.source)).toEqual([
      `${host}/gamma-operator/operator@${fakeDigest('gamma.v3.0.0-operator')}`,
    ]);
    const children = index.manifests.get(built.digest)!;
    expect(children.kind).toBe('index');
    const platformDigests = children.kind === 'index' ? children.index.manifests.map((m) => m.digest) : [];
    expect([...artifacts[0]!.rebuild.keys()]).toEqual(platformDigests);
    expect(artifacts[0]!.destination).toBe('mirror.test/acme/index:filtered');
    // The two platforms share their base and configs layers: each is streamed once, not per platform.
    const opened = index.calls.filter((c) => c.op === 'openBlob').map((c) => c.target);
    expect(opened).toHaveLength(2 + 2); // two configs (one per platform), then the two shared layers
    expect(new Set(opened).size).toBe(opened.length);
  });

  it('mirrors a full catalog whole: every bundle, nothing to rebuild', async () => {
    const { sources: src } = await sources();
    const { set } = parseImageSet(doc({ operators: [operator({ full: true })] }));
    const { images, artifacts } = await expandImageSetContent(set, src, { registry: 'mirror.test' });
    // 9 bundles (alpha 6, beta 2, gamma 1), each with an operator image, and the proxy.
    expect(images).toHaveLength(19);
    expect(artifacts[0]!.rebuild.size).toBe(0);
  });

  it('refuses a package the catalog lacks (CatalogError), and expandImageSet refuses operators', async () => {
    const { sources: src } = await sources();
    const bad = parseImageSet(doc({ operators: [operator({ packages: [{ name: 'delta' }] })] })).set;
    const err = await expandImageSetContent(bad, src, { registry: 'mirror.test' }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('CatalogError');
    expect((err as { code: string }).code).toBe('CATALOG_FILTER_INVALID');
    const ok = parseImageSet(doc({ operators: [operator()] })).set;
    const refused = await expandImageSet(ok, src, { registry: 'mirror.test' }).catch((e: unknown) => e);
    expect((refused as Error).name).toBe('UsageError');
  });
});

describe('pushRebuiltCatalog', () => {
  it.each([false, true])(
    'pushes layer, config, manifests (and index: %s) and tags last; a re-push writes nothing',
    async (multi) => {
      const { sources: src, built } = await sources(multi);
      const { set } = parseImageSet(doc({ operators: [operator(filter)] }));
      const { artifacts } = await expandImageSetContent(set, src, { registry: 'mirror.test' });
      const destination = memoryRegistry('mirror.test')('acme/index');
      storeBuilt(destination, built); // the original, copied by digest
      const pushed = await pushRebuiltCatalog(artifacts[0]!, destination);
      expect(pushed.status).toBe('pushed');
      expect(destination.tags.get('v1')).toBe(pushed.digest);
      expect(pushed.reference).toBe(`mirror.test/acme/index@${pushed.digest}`);
      const puts = destination.calls.filter((c) => c.op === 'putManifest').map((c) => c.target);
      expect(puts.at(-1)).toBe('v1');
      expect(puts).toHaveLength(multi ? 3 : 1);
      // Per platform one new layer and one new config (identical platforms differ in their config only).
      expect(destination.count('writeBlob')).toBe(multi ? 3 : 2);
      const top = destination.manifests.get(pushed.digest)!;
      const images =
        top.kind === 'index' ? top.index.manifests.map((m) => destination.manifests.get(m.digest)!) : [top];
      for (const image of images) {
        expect(image.kind === 'image' && image.image.layers.length).toBe(3);
        const config = image.kind === 'image' ? destination.blobs.get(image.image.config.digest) : undefined;
        expect((JSON.parse(config!.toString()) as { config: { Cmd: string[] } }).config.Cmd).toEqual([
          'serve',
          '/configs',
        ]);
      }

      const before = destination.calls.length;
      const again = await pushRebuiltCatalog(artifacts[0]!, destination);
      expect(again).toEqual({ ...pushed, status: 'up-to-date' });
      const writes = destination.calls.slice(before).filter((c) => c.op === 'writeBlob' || c.op === 'putManifest');
      expect(writes).toEqual([]);
    },
  );
});
