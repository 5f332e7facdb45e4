import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { applyLayers } from '../../functions/mirror/content/layer-files.js';
import { parseCatalog } from '../../functions/mirror/operators/fbc.js';
import { catalogFixtureRepository, pushCatalogFixture } from '../support/catalog-fixture.js';
import { layerEntries } from '../support/catalog-unpack.js';
import { cleanEnv, runFerry, skopeoDigest, jsonLines } from '../support/cli.js';
import { type BuiltManifest, Rng, sha256 } from '../support/fixtures.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.
// issue 10 "Done when" (operator catalogs, CLI): a two-platform file-based catalog image (a base
// layer + the configs layer with an opm cache) whose bundles and related images are pushed to the
// source registry; `ferry mirror --config` with one package by channel range and one by its heads →
// exactly the selected images at the destination by digest, the rebuilt catalog holding exactly the
// selection (unpacked with its whiteouts), cs-/cc- files exact, a second run all up to date.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1020);
const ns = `cat${rng.int(1e9)}`;
const host = `${src.host}/${ns}`;

let catalog: BuiltManifest;
let built: ReadonlyMap<string, BuiltManifest>;
let baseFiles: Readonly<Record<string, string>>;
const repositoryOf = catalogFixtureRepository;
let workspace: string;
let config: string;

beforeAll(async () => {
  ({ catalog, images: built, baseFiles } = await pushCatalogFixture({ baseUrl: src.url, host: src.host, ns, rng }));
  workspace = mkdtempSync(join(tmpdir(), 'ferry-catalog-'));
  config = join(workspace, 'set.yaml');
  writeFileSync(
    config,
    `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  operators:
    - catalog: ${host}/catalog/operator-index:v1
      targetCatalog: mirrored/my-index
      packages:
        - name: alpha-operator
          channels:
            - name: stable
              minVersion: 1.1.0
        - name: gamma-operator
`,
  );
}, 120_000);

const to = (): string => `${dst.host}/${ns}`;
const selected = ['alpha.v1.1.0', 'alpha.v1.1.1', 'alpha.v1.2.0', 'alpha.v1.3.0', 'gamma.v3.0.0'];
/** The fixture names of the selected images: each bundle and its operator, and the shared proxy. */
const expectedNames = (): string[] => [...selected.flatMap((b) => [`${b}-bundle`, `${b}-operator`]), 'kube-rbac-proxy'];

const accept = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'].join(', ');
async function manifestAt(repository: string, reference: string): Promise<{ digest?: string; body?: Buffer }> {
  const res = await fetch(`${dst.url}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  if (res.status !== 200) {
    await res.arrayBuffer();
    return {};
  }
  const body = Buffer.from(await res.arrayBuffer());
  return { digest: sha256(body), body };
}

async function destinationRepositories(): Promise<string[]> {
  const res = await fetch(`${dst.url}/v2/_catalog?n=1000&last=${ns}`);
  return ((await res.json()) as { repositories: string[] }).repositories.filter((r) => r.startsWith(`${ns}/`)).sort();
}

describe('ferry mirror --config with mirror.operators', () => {
  it('mirrors exactly the selected bundle and related images by digest, and pushes the rebuilt catalog', async () => {
    const result = await runFerry(
      ['mirror', '--config', config, '--to', to(), '--workspace', workspace, '--json'],
      cleanEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('warning');
    const out = jsonLines(result.stdout);
    const images = out.filter((l) => l.kind === undefined);
    const expected = expectedNames().map((name) => ({
      source: `${host}/${repositoryOf(name)}@${built.get(name)!.digest}`,
      destination: `${dst.host}/${ns}/${ns}/${repositoryOf(name)}@${built.get(name)!.digest}`,
    }));
    expect(images.map((l) => ({ source: l.source, destination: l.destination })).sort(bySource)).toEqual(
      expected.sort(bySource),
    );
    expect(images.every((l) => l.status === 'copied')).toBe(true);
    const [catalogLine, ...more] = out.filter((l) => l.kind === 'operator-catalog');
    expect(more).toEqual([]);
    expect(catalogLine).toMatchObject({
      source: `${host}/catalog/operator-index:v1`,
      destination: `${to()}/mirrored/my-index:v1`,
      status: 'copied',
    });

    // Nothing outside the selection: the selected images' repositories and the rebuilt catalog's.
    const repositories = [...new Set(expectedNames().map((n) => `${ns}/${ns}/${repositoryOf(n)}`))];
    expect(await destinationRepositories()).toEqual([...repositories, `${ns}/mirrored/my-index`].sort());
    for (const name of expectedNames()) {
      const { digest } = await manifestAt(`${ns}/${ns}/${repositoryOf(name)}`, built.get(name)!.digest);
      expect(digest, name).toBe(built.get(name)!.digest);
    }
    // Two checked by an independent client.
    for (const name of ['alpha.v1.2.0-operator', 'kube-rbac-proxy']) {
      const digest = built.get(name)!.digest;
      expect(await skopeoDigest(`${dst.host}/${ns}/${ns}/${repositoryOf(name)}@${digest}`)).toBe(digest);
    }

    // The rebuilt catalog: a new index (two platforms), the original kept by digest beside it.
    const index = await manifestAt(`${ns}/mirrored/my-index`, 'v1');
    expect(index.digest).toBe(catalogLine!.digest);
    expect(index.digest).not.toBe(catalog.digest);
    expect((await manifestAt(`${ns}/mirrored/my-index`, catalog.digest)).digest).toBe(catalog.digest);
    const children = (JSON.parse(index.body!.toString()) as { manifests: { digest: string; platform: object }[] })
      .manifests;
    expect(children.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    for (const child of children) {
      const manifest = await manifestAt(`${ns}/mirrored/my-index`, child.digest);
      const { layers } = JSON.parse(manifest.body!.toString()) as { layers: { digest: string }[] };
      expect(layers).toHaveLength(3);
      const view = applyLayers(
        await Promise.all(layers.map((l) => layerEntries(dst.url, `${ns}/mirrored/my-index`, l.digest))),
      );
      expect([...view.keys()].filter((p) => p.startsWith('tmp/'))).toEqual([]);
      for (const [path, data] of Object.entries(baseFiles)) expect(view.get(path)?.toString(), path).toBe(data);
      const files = new Map(
        [...view].filter(([p]) => p.startsWith('configs/')).map(([p, b]) => [p.slice('configs/'.length), b]),
      );
      const rebuilt = parseCatalog(files);
      expect(rebuilt.packages.map((p) => p.name).sort()).toEqual(['alpha-operator', 'gamma-operator']);
      expect(rebuilt.channels.map((c) => `${c.package}/${c.name}:${c.entries.map((e) => e.name).join(',')}`)).toEqual([
        'alpha-operator/stable:alpha.v1.1.0,alpha.v1.1.1,alpha.v1.2.0,alpha.v1.3.0',
        'gamma-operator/stable:gamma.v3.0.0',
      ]);
      expect(rebuilt.bundles.map((b) => b.name).sort()).toEqual(selected);
      expect(rebuilt.others.map((o) => o.schema).sort()).toEqual([
        'acme.example.global',
        'acme.example.notes',
        'olm.deprecations',
      ]);
    }

    // cs-/cc- beside the IDMS, naming the rebuilt catalog by digest.
    const resources = join(workspace, 'cluster-resources');
    expect(readdirSync(resources).sort()).toEqual([
      'cc-my-index-v1.yaml',
      'cs-my-index-v1.yaml',
      'idms-oc-mirror.yaml',
    ]);
    const image = `${to()}/mirrored/my-index:v1@${index.digest}`;
    expect(readFileSync(join(resources, 'cs-my-index-v1.yaml'), 'utf8')).toBe(
      `apiVersion: operators.coreos.com/v1alpha1
kind: CatalogSource
metadata:
  annotations:
    createdBy: ferry
  name: cs-my-index-v1
  namespace: openshift-marketplace
spec:
  image: ${image}
  sourceType: grpc
`,
    );
    expect(readFileSync(join(resources, 'cc-my-index-v1.yaml'), 'utf8')).toBe(
      `apiVersion: olm.operatorframework.io/v1
kind: ClusterCatalog
metadata:
  annotations:
    createdBy: ferry
  name: cc-my-index-v1
spec:
  priority: 0
  source:
    image:
      ref: ${image}
    type: Image
`,
    );
    const idms = parse(readFileSync(join(resources, 'idms-oc-mirror.yaml'), 'utf8')) as {
      kind: string;
      spec: { imageDigestMirrors: unknown };
    };
    expect(idms.kind).toBe('ImageDigestMirrorSet');
    expect(idms.spec.imageDigestMirrors).toEqual(
      [
        'alpha-operator/bundle',
        'alpha-operator/operator',
        'gamma-operator/bundle',
        'gamma-operator/operator',
        'shared/kube-rbac-proxy',
      ].map((r) => ({ source: `${host}/${r}`, mirrors: [`${dst.host}/${ns}/${ns}/${r}`] })),
    );
  }, 180_000);

  it('a second run is all up to date', async () => {
    const result = await runFerry(
      ['mirror', '--config', config, '--to', to(), '--workspace', join(workspace, 'second'), '--json'],
      cleanEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    const out = jsonLines(result.stdout);
    expect(out).toHaveLength(expectedNames().length + 1);
    expect(out.filter((l) => l.status !== 'skipped')).toEqual([]);
    expect(readFileSync(join(workspace, 'second', 'cluster-resources', 'cs-my-index-v1.yaml'), 'utf8')).toBe(
      readFileSync(join(workspace, 'cluster-resources', 'cs-my-index-v1.yaml'), 'utf8'),
    );
  }, 180_000);

  it('--dry-run plans the catalog images and pushes nothing', async () => {
    const before = JSON.stringify(await destinationRepositories());
    const dir = join(workspace, 'dry');
    const result = await runFerry(
      ['mirror', '--config', config, '--to', `${dst.host}/${ns}/dry`, '--workspace', dir, '--dry-run', '--json'],
      cleanEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout) as { images: { source: string }[] };
    expect(plan.images.map((i) => i.source).sort()).toEqual(
      expectedNames()
        .map((n) => `${host}/${repositoryOf(n)}@${built.get(n)!.digest}`)
        .sort(),
    );
    expect(JSON.stringify(await destinationRepositories())).toBe(before);
  }, 120_000);

  it('refuses a package the catalog does not have (exit 2), copying nothing', async () => {
    const bad = join(workspace, 'bad.yaml');
    writeFileSync(bad, readFileSync(config, 'utf8').replace('name: gamma-operator', 'name: delta-operator'));
    const before = JSON.stringify(await destinationRepositories());
    const result = await runFerry(['mirror', '--config', bad, '--to', `${dst.host}/${ns}/bad`], cleanEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('delta-operator');
    expect(JSON.stringify(await destinationRepositories())).toBe(before);
  }, 60_000);
});

describe('ferry list operators', () => {
  const list = (...args: string[]) =>
    runFerry(['list', 'operators', '--catalog', `${host}/catalog/operator-index:v1`, ...args], cleanEnv());

  it('prints the packages', async () => {
    const result = await list();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'NAME            DISPLAY NAME  DEFAULT CHANNEL',
        'alpha-operator  Alpha 2.0.0   stable',
        'beta-operator   Beta          stable-v1',
        'gamma-operator  Gamma         stable',
        '',
      ].join('\n'),
    );
  });

  it("prints a package's channels and a channel's versions", async () => {
    const pkg = await list('--package', 'alpha-operator');
    expect(pkg.code, pkg.stderr).toBe(0);
    expect(pkg.stdout).toBe(
      [
        'NAME            DISPLAY NAME  DEFAULT CHANNEL',
        'alpha-operator  Alpha 2.0.0   stable',
        '',
        'PACKAGE         CHANNEL  HEAD',
        'alpha-operator  fast     alpha.v2.0.0',
        'alpha-operator  stable   alpha.v1.3.0',
        '',
      ].join('\n'),
    );
    const channel = await list('--package', 'alpha-operator', '--channel', 'stable');
    expect(channel.code, channel.stderr).toBe(0);
    expect(channel.stdout).toBe(['VERSIONS', '1.0.0', '1.1.0', '1.1.1', '1.2.0', '1.3.0', ''].join('\n'));
  });

  it('exits 2 for a package the catalog does not have', async () => {
    const result = await list('--package', 'delta-operator');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('delta-operator');
  });
});

function bySource(a: { source: string }, b: { source: string }): number {
  return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
}
