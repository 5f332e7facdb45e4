import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { RunningServer } from '../../functions/local/serve.js';
import { catalogFixtureRepository, pushCatalogFixture } from '../support/catalog-fixture.js';
import { configsCatalog, imageFiles } from '../support/catalog-unpack.js';
import { type BuiltManifest, buildImage, push, remoteDigest, Rng, sha256 } from '../support/fixtures.js';
import { type ChartServer, chartTgz, indexYaml, sha256Hex, startChartServer } from '../support/helm-fixture.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';
import { makeCertificates, type TestCertificates } from '../support/tls-certs.js';

// issue 10, slice 6: a set with mirror.operators and mirror.helm through POST /v1/runs and
// `ferry serve` — inline, then stored by name. The images the catalog and the chart name arrive by
// digest, the chart is pushed as `helm push` does (from an HTTPS repository with a test CA, passed
// through serve's transport), the rebuilt catalog holds the selection, /cluster-resources names it.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1160);
const ns = `cr${rng.int(1e9)}`;
const host = `${src.host}/${ns}`;
const helmConfigType = 'application/vnd.cncf.helm.config.v1+json';
const helmLayerType = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

let certs: TestCertificates;
let charts: ChartServer;
let server: RunningServer;
let catalog: BuiltManifest;
let built: ReadonlyMap<string, BuiltManifest>;
let app: BuiltManifest;
let web: Buffer;

/**
 * What the set selects from the catalog: gamma's one bundle and its operator; alpha, named without
 * channels, gives its default channel's head only (stable's 1.3.0, not fast's 2.0.0) and the proxy it uses.
 */
const selectedNames = [
  'alpha.v1.3.0-bundle',
  'alpha.v1.3.0-operator',
  'kube-rbac-proxy',
  'gamma.v3.0.0-bundle',
  'gamma.v3.0.0-operator',
];

beforeAll(async () => {
  ({ catalog, images: built } = await pushCatalogFixture({ baseUrl: src.url, host: src.host, ns, rng }));
  app = buildImage({ layers: [rng.bytes(512 + rng.int(512))] });
  await push(src.url, `${ns}/app`, '1.0', app);
  web = await chartTgz({
    dir: 'web',
    files: {
      'Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n',
      'values.yaml': `image: ${host}/app:1.0\n`,
    },
  });
  certs = makeCertificates();
  const files = new Map<string, Buffer>();
  charts = await startChartServer(files, certs);
  files.set(
    '/repo/index.yaml',
    Buffer.from(indexYaml([{ name: 'web', version: '1.0.0', urls: ['web-1.0.0.tgz'], digest: sha256Hex(web) }])),
  );
  files.set('/repo/web-1.0.0.tgz', web);
  server = await startService({
    transport: {
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      verifyHosts: [charts.host],
      ca: readFileSync(certs.caFile),
    },
  });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await charts?.close();
});

const config = (): object => ({
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: {
    operators: [
      {
        catalog: `${host}/catalog/operator-index:v1`,
        packages: [{ name: 'gamma-operator' }, { name: 'alpha-operator' }],
      },
    ],
    helm: {
      repositories: [{ name: 'local', url: `${charts.origin}/repo`, charts: [{ name: 'web', version: '1.0.0' }] }],
    },
  },
});

async function run(body: object): Promise<RunView> {
  const started = await api(server.url, 'POST', '/v1/runs', body);
  expect(started.status, started.text).toBe(202);
  return waitForRun(server.url, (started.json as { runId: string }).runId);
}

const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
async function manifestAt(repository: string, reference: string): Promise<Buffer> {
  const res = await fetch(`${dst.url}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  expect(res.status, `${repository}:${reference}`).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Everything a run of `config` to `<dst>/<prefix>` must have left there. */
async function expectMirrored(view: RunView, prefix: string): Promise<void> {
  const to = `${dst.host}/${prefix}`;
  expect(view, JSON.stringify(view)).toMatchObject({ status: 'completed', imagesFailed: 0, totalImages: 8 });
  // The catalog's selected images and the chart's image, by digest.
  for (const name of selectedNames) {
    const { digest } = built.get(name)!;
    expect(await remoteDigest(dst.url, `${prefix}/${ns}/${catalogFixtureRepository(name)}`, digest)).toBe(digest);
  }
  expect(await remoteDigest(dst.url, `${prefix}/${ns}/app`, '1.0')).toBe(app.digest);

  // The chart, as `helm push` writes it: the .tgz as its one layer, the helm config.
  const chartItem = view.images[`${to}/web:1.0.0`]!;
  expect([chartItem.source, chartItem.status]).toEqual([`${charts.origin}/repo/web-1.0.0.tgz`, 'completed']);
  const chartBytes = await manifestAt(`${prefix}/web`, '1.0.0');
  expect(sha256(chartBytes)).toBe(chartItem.digest);
  const chart = JSON.parse(chartBytes.toString()) as {
    config: { mediaType: string };
    layers: { mediaType: string; digest: string; size: number }[];
  };
  expect(chart.config.mediaType).toBe(helmConfigType);
  expect(chart.layers).toEqual([{ mediaType: helmLayerType, digest: `sha256:${sha256Hex(web)}`, size: web.length }]);

  // The rebuilt catalog under the catalog's tag, holding the selection; the original kept by digest.
  const catalogRepository = `${prefix}/${ns}/catalog/operator-index`;
  const catalogItem = view.images[`${to}/${ns}/catalog/operator-index:v1`]!;
  expect([catalogItem.source, catalogItem.status]).toEqual([
    `${host}/catalog/operator-index@${catalog.digest}`,
    'completed',
  ]);
  const index = await manifestAt(catalogRepository, 'v1');
  expect(sha256(index)).toBe(catalogItem.digest);
  expect(catalogItem.digest).not.toBe(catalog.digest);
  expect(sha256(await manifestAt(catalogRepository, catalog.digest))).toBe(catalog.digest);
  const children = (JSON.parse(index.toString()) as { manifests: { digest: string }[] }).manifests;
  expect(children).toHaveLength(2);
  for (const child of children) {
    const { layers } = JSON.parse((await manifestAt(catalogRepository, child.digest)).toString()) as {
      layers: { digest: string }[];
    };
    const rebuilt = configsCatalog(await imageFiles(dst.url, catalogRepository, layers));
    expect(rebuilt.packages.map((p) => p.name).sort()).toEqual(['alpha-operator', 'gamma-operator']);
    expect(rebuilt.channels.map((c) => `${c.package}/${c.name}:${c.entries.map((e) => e.name).join(',')}`)).toEqual([
      'alpha-operator/stable:alpha.v1.3.0',
      'gamma-operator/stable:gamma.v3.0.0',
    ]);
    expect(rebuilt.bundles.map((b) => b.name).sort()).toEqual(['alpha.v1.3.0', 'gamma.v3.0.0']);
  }

  // /cluster-resources: the IDMS (the catalog's images by digest), the ITMS (app:1.0), then the
  // CatalogSource and ClusterCatalog pulling the rebuilt catalog by digest; no chart, no catalog as a mirror.
  const resources = await api(server.url, 'GET', `/v1/runs/${view.runId}/cluster-resources`);
  expect(resources.status).toBe(200);
  const documents = parseAllDocuments(resources.text).map((d) => d.toJS() as { kind: string; spec: unknown });
  expect(documents.map((d) => d.kind)).toEqual([
    'ImageDigestMirrorSet',
    'ImageTagMirrorSet',
    'CatalogSource',
    'ClusterCatalog',
  ]);
  const rebuiltRef = `${to}/${ns}/catalog/operator-index:v1@${catalogItem.digest}`;
  expect(documents[2]!.spec).toEqual({ image: rebuiltRef, sourceType: 'grpc' });
  expect(documents[3]!.spec).toEqual({ priority: 0, source: { image: { ref: rebuiltRef }, type: 'Image' } });
  expect(JSON.stringify(documents.slice(0, 2))).not.toContain('operator-index');
  expect(JSON.stringify(documents.slice(0, 2))).not.toContain('web-1.0.0');
}

describe('ferry serve: runs of sets with operators and helm', () => {
  it('an inline document mirrors the catalog, the chart and the images they name', async () => {
    const prefix = `${ns}-inline`;
    const view = await run({ config: config(), destination: { registry: dst.host, prefix } });
    await expectMirrored(view, prefix);
  }, 180_000);

  it('the same as a stored set, by name', async () => {
    const prefix = `${ns}-stored`;
    const put = await api(server.url, 'PUT', '/v1/image-sets/content', {
      config: config(),
      destination: { registry: dst.host, prefix },
    });
    expect(put.status, put.text).toBe(200);
    const view = await run({ imageSet: 'content' });
    await expectMirrored(view, prefix);
  }, 180_000);
});
