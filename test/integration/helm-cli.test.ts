import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, runFerry, skopeoDigest, jsonLines } from '../support/cli.js';
import { blob, type BuiltManifest, buildImage, push, Rng, sha256 } from '../support/fixtures.js';
import { type ChartServer, chartTgz, indexYaml, sha256Hex, startChartServer } from '../support/helm-fixture.js';
import { makeCertificates, type TestCertificates } from '../support/tls-certs.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.
// issue 10 "Done when" (Helm): a chart repository served over HTTPS on loopback with a test CA
// (verified: --tls-verify for its host:port, --ca-file), two charts — one naming images in its
// artifacthub.io/images annotation, its values and a template, one through imagePaths — and an
// OCI chart in additionalImages. `ferry mirror --config` pushes the charts as `helm push` would
// (checked by format: no helm binary here), mirrors the images by digest, and a second run is up to date.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1110);
const ns = `helm${rng.int(1e9)}`;
const helmConfigType = 'application/vnd.cncf.helm.config.v1+json';
const helmLayerType = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

let certs: TestCertificates;
let server: ChartServer;
let workspace: string;
let config: string;
let web: Buffer;
let db: Buffer;
/** Source images the charts name: reference as the chart names it → its manifest. */
const images = new Map<string, BuiltManifest>();
let ociChart: BuiltManifest;

const image = (): BuiltManifest => buildImage({ layers: [rng.bytes(512 + rng.int(512))] });

beforeAll(async () => {
  const named = { app: image(), sidecar: image(), init: image(), db: image() };
  await push(src.url, `${ns}/app`, '1.0', named.app);
  await push(src.url, `${ns}/sidecar`, '2.0', named.sidecar);
  await push(src.url, `${ns}/init`, 'v1', named.init);
  await push(src.url, `${ns}/db`, '16', named.db);
  images.set(`${src.host}/${ns}/app:1.0`, named.app);
  images.set(`${src.host}/${ns}/sidecar:2.0`, named.sidecar);
  images.set(`${src.host}/${ns}/init@${named.init.digest}`, named.init);
  images.set(`${src.host}/${ns}/db:16`, named.db);

  web = await chartTgz({
    dir: 'web',
    mtime: new Date('2025-02-03T04:05:06Z'),
    files: {
      'Chart.yaml': `apiVersion: v2
name: web
version: 1.0.0
appVersion: "1.0"
description: The web tier
annotations:
  artifacthub.io/images: |
    - name: app
      image: ${src.host}/${ns}/app:1.0
`,
      'values.yaml': `image:\n  registry: ${src.host}\n  repository: ${ns}/sidecar\n  tag: "2.0"\n`,
      'templates/deployment.yaml': `spec:\n  initContainers:\n    - name: init\n      image: ${src.host}/${ns}/init@${named.init.digest}\n  containers:\n    - name: app\n      image: "{{ .Values.image.registry }}/{{ .Values.image.repository }}"\n`,
    },
  });
  db = await chartTgz({
    dir: 'db',
    files: {
      'Chart.yaml': 'apiVersion: v2\nname: db\nversion: 2.0.0+b1\n',
      'values.yaml': `db:\n  repo: ${src.host}/${ns}/db\n  tag: 16\n`,
    },
  });

  // An OCI chart already in a registry (as `helm push` left it): copied as it is.
  const chartConfig = blob(helmConfigType, Buffer.from('{"name":"oci","version":"0.1.0","apiVersion":"v2"}'));
  ociChart = buildImage({
    configMediaType: helmConfigType,
    config: chartConfig.data,
    layerMediaType: helmLayerType,
    layers: [await chartTgz({ dir: 'oci', files: { 'Chart.yaml': 'apiVersion: v2\nname: oci\nversion: 0.1.0\n' } })],
  });
  await push(src.url, `${ns}/charts/oci`, '0.1.0', ociChart);

  certs = makeCertificates();
  const files = new Map<string, Buffer>();
  server = await startChartServer(files, certs);
  files.set(
    '/repo/index.yaml',
    Buffer.from(
      indexYaml([
        { name: 'web', version: '1.0.0', urls: ['web-1.0.0.tgz'], digest: sha256Hex(web) },
        { name: 'web', version: '0.9.0', urls: ['web-0.9.0.tgz'] },
        { name: 'db', version: '2.0.0+b1', urls: [`${server.origin}/dl/db-2.0.0+b1.tgz`] },
      ]),
    ),
  );
  files.set('/repo/web-1.0.0.tgz', web);
  files.set('/dl/db-2.0.0+b1.tgz', db);

  workspace = mkdtempSync(join(tmpdir(), 'ferry-helm-'));
  config = join(workspace, 'set.yaml');
  writeFileSync(
    config,
    `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: ${src.host}/${ns}/charts/oci:0.1.0
  helm:
    repositories:
      - name: local
        url: ${server.origin}/repo
        charts:
          - name: web
            version: 1.0.0
          - name: db
            version: 2.0.0+b1
            imagePaths: ['{.db.repo}:{.db.tag}']
`,
  );
}, 120_000);
afterAll(() => server?.close());

const to = (): string => `${dst.host}/${ns}`;
const verified = (): string[] => ['--tls-verify', server.host, '--ca-file', certs.caFile];

const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
async function manifestAt(repository: string, reference: string): Promise<{ type: string | null; bytes: Buffer }> {
  const res = await fetch(`${dst.url}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  expect(res.status, `${repository}:${reference}`).toBe(200);
  return { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}
async function blobAt(repository: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${dst.url}/v2/${repository}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

interface ChartManifest {
  schemaVersion: number;
  mediaType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
  annotations: Record<string, string>;
}

describe('ferry mirror --config with mirror.helm', () => {
  it('refuses the repository when its certificate cannot be verified, copying nothing', async () => {
    const result = await runFerry(['mirror', '--config', config, '--to', `${to()}x`, '--tls-verify', server.host]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('certificate');
  });

  it('pushes the charts as helm push does and mirrors the images they name, by digest', async () => {
    const result = await runFerry(
      ['mirror', '--config', config, '--to', to(), '--workspace', workspace, '--json', ...verified()],
      cleanEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('warning');
    const out = jsonLines(result.stdout);
    const charts = out.filter((l) => l.kind === 'helm-chart');
    expect(charts.map((c) => [c.destination, c.status])).toEqual([
      [`${to()}/web:1.0.0`, 'copied'],
      [`${to()}/db:2.0.0_b1`, 'copied'],
    ]);
    const copied = out.filter((l) => l.kind === undefined);
    expect(copied.map((l) => l.source).sort()).toEqual([`${src.host}/${ns}/charts/oci:0.1.0`, ...images.keys()].sort());
    expect(copied.every((l) => l.status === 'copied')).toBe(true);

    // The images, by digest equality at their mirrored names.
    for (const [source, manifest] of images) {
      const destination = source.replace(src.host, to());
      expect(await skopeoDigest(destination), destination).toBe(manifest.digest);
    }
    // The OCI chart from additionalImages, as it was.
    const copiedChart = await manifestAt(`${ns}/${ns}/charts/oci`, '0.1.0');
    expect(copiedChart.bytes.equals(ociChart.bytes)).toBe(true);

    // The pushed charts, by format: what `helm pull oci://…` reads.
    for (const [name, tag, tgz] of [
      ['web', '1.0.0', web],
      ['db', '2.0.0_b1', db],
    ] as const) {
      const { type, bytes } = await manifestAt(`${ns}/${name}`, tag);
      expect(type).toBe('application/vnd.oci.image.manifest.v1+json');
      const manifest = JSON.parse(bytes.toString()) as ChartManifest;
      expect(Object.keys(manifest)).toEqual(['schemaVersion', 'config', 'layers', 'annotations']);
      expect(manifest.config.mediaType).toBe(helmConfigType);
      expect(manifest.layers.map((l) => [l.mediaType, l.digest, l.size])).toEqual([
        [helmLayerType, `sha256:${sha256Hex(tgz)}`, tgz.length],
      ]);
      expect((await blobAt(`${ns}/${name}`, manifest.layers[0]!.digest)).equals(tgz)).toBe(true);
      const configBytes = await blobAt(`${ns}/${name}`, manifest.config.digest);
      expect(sha256(configBytes)).toBe(manifest.config.digest);
      const meta = JSON.parse(configBytes.toString()) as { name: string; version: string; apiVersion: string };
      expect([meta.name, meta.version, meta.apiVersion]).toEqual([name, tag.replace('_', '+'), 'v2']);
      expect(manifest.annotations['org.opencontainers.image.title']).toBe(name);
      expect(manifest.annotations['org.opencontainers.image.version']).toBe(tag.replace('_', '+'));
      expect(charts.find((c) => c.destination.endsWith(`/${name}:${tag}`))!.digest).toBe(sha256(bytes));
    }
    const webManifest = JSON.parse((await manifestAt(`${ns}/web`, '1.0.0')).bytes.toString()) as ChartManifest;
    expect(webManifest.annotations).toEqual({
      'artifacthub.io/images': `- name: app\n  image: ${src.host}/${ns}/app:1.0\n`,
      'org.opencontainers.image.created': '2025-02-03T04:05:06Z',
      'org.opencontainers.image.description': 'The web tier',
      'org.opencontainers.image.title': 'web',
      'org.opencontainers.image.version': '1.0.0',
    });
    // The index once, each chart once; web 0.9.0 never asked for.
    expect([...server.requests].sort()).toEqual(['/dl/db-2.0.0+b1.tgz', '/repo/index.yaml', '/repo/web-1.0.0.tgz']);
  }, 180_000);

  it('a second run is all up to date', async () => {
    const result = await runFerry(
      ['mirror', '--config', config, '--to', to(), '--workspace', join(workspace, 'second'), '--json', ...verified()],
      cleanEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    const out = jsonLines(result.stdout);
    expect(out).toHaveLength(images.size + 1 + 2);
    expect(out.filter((l) => l.status !== 'skipped')).toEqual([]);
  }, 180_000);

  it('--dry-run plans the charts with the rest and says where each image was found', async () => {
    const result = await runFerry(
      [
        'mirror',
        '--config',
        config,
        '--to',
        `${to()}dry`,
        '--workspace',
        join(workspace, 'dry'),
        '--dry-run',
        ...verified(),
      ],
      cleanEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`push     chart ${server.origin}/repo/web-1.0.0.tgz → ${to()}dry/web:1.0.0`);
    expect(result.stdout).toContain(`(found in web-1.0.0 templates/deployment.yaml:4)`);
    expect(result.stdout).toContain(`(found in db-2.0.0+b1 imagePaths[0] {.db.repo}:{.db.tag})`);
    expect(result.stderr).toMatch(/dry run: 7 images: 7 to copy/);
    const head = await fetch(`${dst.url}/v2/${ns}dry/web/manifests/1.0.0`, { method: 'HEAD', headers: { accept } });
    expect(head.status).toBe(404);
  }, 180_000);
});
