import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { cleanEnv, runFerry, skopeoDigest, jsonLines } from '../support/cli.js';
import { Rng } from '../support/fixtures.js';
import { startServeProcess } from '../support/serve-process.js';
import { api, type RunView, waitForRun } from '../support/service.js';
import {
  type GraphServer,
  graphOf,
  type PushedRelease,
  pushReleases,
  startGraphServer,
} from '../support/release-fixture.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.
// issue 10 "Done when" (release payloads): fake release images naming 22 fixture components by digest,
// two versions × two architectures, a fake update graph on loopback (UPDATE_URL_OVERRIDE): exactly the
// expected images at the destination by digest, the IDMS exact, a second run all up to date.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1010);
const ns = `rel${rng.int(1e9)}`;
const channel = 'stable-4.17';
const fakePayload = (n: number): string => `${src.host}/${ns}/ocp-release@sha256:${String(n).padStart(64, '0')}`;

let releases: PushedRelease[];
let graph: GraphServer;
let workspace: string;
let config: string;

beforeAll(async () => {
  releases = await pushReleases({
    baseUrl: src.url,
    host: src.host,
    ns,
    rng,
    versions: ['4.17.2', '4.17.3'],
    archs: [
      { arch: 'amd64', oci: 'amd64', tagArch: 'x86_64' },
      { arch: 'arm64', oci: 'arm64', tagArch: 'aarch64' },
    ],
    count: 22,
    changed: 5,
  });
  // 4.17.1 and 4.17.4 are outside the range: their payloads do not exist, so reading one would fail the run.
  const graphs = Object.fromEntries(
    ['amd64', 'arm64'].map((arch) => [
      `${channel} ${arch}`,
      graphOf([
        { version: '4.17.1', payload: fakePayload(1) },
        ...releases.filter((r) => r.arch === arch).map((r) => ({ version: r.version, payload: r.payload })),
        { version: '4.17.4', payload: fakePayload(4) },
      ]),
    ]),
  );
  graph = await startGraphServer(graphs);
  workspace = mkdtempSync(join(tmpdir(), 'ferry-release-'));
  config = join(workspace, 'set.yaml');
  writeFileSync(
    config,
    `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  platform:
    channels:
      - name: ${channel}
        minVersion: 4.17.2
        maxVersion: 4.17.3
    architectures: [amd64, arm64]
`,
  );
}, 120_000);
afterAll(() => graph?.close());

const env = (): NodeJS.ProcessEnv => cleanEnv({ UPDATE_URL_OVERRIDE: graph.url });
const to = (): string => `${dst.host}/${ns}`;

/** Every destination tag the set selects, with the digest it must hold. */
function expectedTags(): Map<string, Map<string, string>> {
  const images = new Map<string, string>();
  const components = new Map<string, string>();
  for (const r of releases) {
    images.set(`${r.version}-${r.tagArch}`, r.digest);
    for (const c of r.components) components.set(`${r.version}-${r.tagArch}-${c.name}`, c.digest);
  }
  return new Map([
    ['openshift/release-images', images],
    ['openshift/release', components],
  ]);
}

async function destinationTags(repository: string, under = ns): Promise<string[]> {
  const res = await fetch(`${dst.url}/v2/${under}/${repository}/tags/list?n=1000`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return [];
  }
  return [...(((await res.json()) as { tags: string[] | null }).tags ?? [])].sort();
}

async function destinationCatalog(): Promise<string[]> {
  const res = await fetch(`${dst.url}/v2/_catalog?n=1000&last=${ns}`);
  return ((await res.json()) as { repositories: string[] }).repositories.filter((r) => r.startsWith(`${ns}/`));
}

const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
async function destinationDigest(repository: string, tag: string, under = ns): Promise<string | undefined> {
  const res = await fetch(`${dst.url}/v2/${under}/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept },
  });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

describe('ferry mirror --config with mirror.platform', () => {
  it('mirrors exactly the releases of the range for both architectures, by digest, and writes the IDMS', async () => {
    const result = await runFerry(
      ['mirror', '--config', config, '--to', to(), '--workspace', workspace, '--json'],
      env(),
    );
    expect(result.code, result.stderr).toBe(0);
    // The one warning: no signature store is configured here (release-switches.test.ts writes signatures).
    expect(result.stderr.split('\n').filter((l) => l.includes('warning'))).toEqual([
      'ferry: warning: release signatures not written: set FERRY_RELEASE_SIGNATURES_URL (e.g. https://mirror.openshift.com/pub/openshift-v4/signatures/openshift/release)',
    ]);
    const expected = expectedTags();
    const out = jsonLines(result.stdout);
    // 4 releases × (1 release image + 22 components); shared components are copied once per tag.
    expect(out).toHaveLength(4 * 23);
    expect(out.every((l) => l.status === 'copied' || l.status === 'skipped')).toBe(true);

    expect((await destinationCatalog()).sort()).toEqual([`${ns}/openshift/release`, `${ns}/openshift/release-images`]);
    for (const [repository, tags] of expected) {
      expect(await destinationTags(repository)).toEqual([...tags.keys()].sort());
      for (const [tag, digest] of tags) expect(await destinationDigest(repository, tag), tag).toBe(digest);
    }
    // Two checked by an independent client.
    const release = releases.find((r) => r.version === '4.17.3' && r.arch === 'arm64')!;
    expect(await skopeoDigest(`${dst.host}/${ns}/openshift/release-images:4.17.3-aarch64`)).toBe(release.digest);
    const component = release.components[7]!;
    expect(await skopeoDigest(`${dst.host}/${ns}/openshift/release:4.17.3-aarch64-${component.name}`)).toBe(
      component.digest,
    );

    // The update graph was asked once per architecture, at the override.
    expect(graph.requests.sort()).toEqual([
      `/graph?channel=${channel}&arch=amd64`,
      `/graph?channel=${channel}&arch=arm64`,
    ]);
    const idms = parse(readFileSync(join(workspace, 'cluster-resources', 'idms-oc-mirror.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      spec: { imageDigestMirrors: unknown };
    };
    expect([idms.apiVersion, idms.kind]).toEqual(['config.openshift.io/v1', 'ImageDigestMirrorSet']);
    expect(idms.spec.imageDigestMirrors).toEqual([
      { source: `${src.host}/${ns}/ocp-release`, mirrors: [`${dst.host}/${ns}/openshift/release-images`] },
      { source: `${src.host}/${ns}/ocp-v4.0-art-dev`, mirrors: [`${dst.host}/${ns}/openshift/release`] },
    ]);
    expect(existsSync(join(workspace, 'cluster-resources', 'itms-oc-mirror.yaml'))).toBe(false);
  }, 180_000);

  it('a second run is all up to date', async () => {
    const result = await runFerry(
      ['mirror', '--config', config, '--to', to(), '--workspace', join(workspace, 'second'), '--json'],
      env(),
    );
    expect(result.code, result.stderr).toBe(0);
    const out = jsonLines(result.stdout);
    expect(out).toHaveLength(4 * 23);
    expect(out.filter((l) => l.status !== 'skipped')).toEqual([]);
  }, 180_000);

  it('fails before copying anything when the update graph does not know the channel', async () => {
    const bad = join(workspace, 'bad.yaml');
    writeFileSync(bad, readFileSync(config, 'utf8').replace(`name: ${channel}`, 'name: fast-4.99'));
    const before = JSON.stringify(await destinationCatalog());
    const result = await runFerry(['mirror', '--config', bad, '--to', `${dst.host}/${ns}x`], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('status 404');
    expect(JSON.stringify(await destinationCatalog())).toBe(before);
  });
});

describe('POST /v1/runs with an inline document (ferry serve)', () => {
  it('mirrors the same releases through the API and serves the IDMS', async () => {
    const serve = await startServeProcess(['--data-dir', mkdtempSync(join(tmpdir(), 'ferry-release-serve-'))], env());
    try {
      const under = `${ns}api`;
      const document = parse(readFileSync(config, 'utf8')) as object;
      const started = await api(serve.url, 'POST', '/v1/runs', {
        config: document,
        destination: { registry: dst.host, prefix: under },
      });
      expect(started.status, started.text).toBe(202);
      const run = await waitForRun(serve.url, (started.json as RunView).runId);
      expect([run.status, run.totalImages, run.imagesFailed]).toEqual(['completed', 4 * 23, 0]);
      for (const [repository, tags] of expectedTags()) {
        expect(await destinationTags(repository, under)).toEqual([...tags.keys()].sort());
        for (const [tag, digest] of [...tags].slice(0, 3))
          expect(await destinationDigest(repository, tag, under)).toBe(digest);
      }
      const idms = await api(serve.url, 'GET', `/v1/runs/${run.runId}/idms`);
      expect(idms.status).toBe(200);
      expect((parse(idms.text) as { spec: { imageDigestMirrors: unknown } }).spec.imageDigestMirrors).toEqual([
        { source: `${src.host}/${ns}/ocp-release`, mirrors: [`${dst.host}/${under}/openshift/release-images`] },
        { source: `${src.host}/${ns}/ocp-v4.0-art-dev`, mirrors: [`${dst.host}/${under}/openshift/release`] },
      ]);
    } finally {
      await serve.stop();
    }
  }, 240_000);
});
