import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, runFerry, skopeoDigest } from '../support/cli.js';
import { Rng } from '../support/fixtures.js';
import { freePort } from '../support/ports.js';
import {
  type GraphServer,
  graphOf,
  type PushedRelease,
  pushReleases,
  startGraphServer,
} from '../support/release-fixture.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.
// issue 10, WRKLDS-296: `ferry mirror --release [VERSION]` with each default overridden on its own
// (--from, --to, --arch, --channel), both sides probed before anything is copied.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1296);
const ns = `rs${rng.int(1e9)}`;
let releases: PushedRelease[];
let graph: GraphServer;
let workspace: string;

beforeAll(async () => {
  releases = await pushReleases({
    baseUrl: src.url,
    host: src.host,
    ns,
    rng,
    versions: ['4.18.1', '4.18.2'],
    archs: [{ arch: 'arm64', oci: 'arm64', tagArch: 'aarch64' }],
    count: 6,
    changed: 2,
  });
  graph = await startGraphServer({
    'fast-4.18 arm64': graphOf(releases.map((r) => ({ version: r.version, payload: r.payload }))),
  });
  workspace = mkdtempSync(join(tmpdir(), 'ferry-release-switches-'));
}, 120_000);
afterAll(() => graph?.close());

const release = (version: string): PushedRelease => releases.find((r) => r.version === version)!;
const common = (to: string): string[] => [
  '--from',
  `${src.host}/${ns}`,
  '--arch',
  'arm64',
  '--to',
  to,
  '--workspace',
  workspace,
];

describe('ferry mirror --release', () => {
  it('mirrors the release named by VERSION and every component by digest, then is up to date', async () => {
    const to = `${dst.host}/${ns}-v`;
    const result = await runFerry(['mirror', '--release', '4.18.1', ...common(to), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const r = release('4.18.1');
    expect(await skopeoDigest(`${to}/openshift/release-images:4.18.1-aarch64`)).toBe(r.digest);
    for (const c of [r.components[0]!, r.components[5]!])
      expect(await skopeoDigest(`${to}/openshift/release:4.18.1-aarch64-${c.name}`)).toBe(c.digest);
    const lines = result.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1 + 6);

    const again = await runFerry(['mirror', '--release', '4.18.1', ...common(to), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.split('\n').filter((l) => l.includes('"status":"copied"'))).toEqual([]);
  });

  it('--release --channel mirrors the channel head from the update graph', async () => {
    const to = `${dst.host}/${ns}-c`;
    const result = await runFerry(
      ['mirror', '--release', '--channel', 'fast-4.18', ...common(to)],
      cleanEnv({ UPDATE_URL_OVERRIDE: graph.url }),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await skopeoDigest(`${to}/openshift/release-images:4.18.2-aarch64`)).toBe(release('4.18.2').digest);
    expect(graph.requests).toEqual(['/graph?channel=fast-4.18&arch=arm64']);
  });

  it('probes both sides first: a missing release or an unreachable destination fails with nothing copied', async () => {
    const missing = await runFerry(['mirror', '--release', '4.18.9', ...common(`${dst.host}/${ns}-m`)]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `ferry: source ${src.host}/${ns}/ocp-release:4.18.9-aarch64: no such release image (nothing copied)`,
    );
    const closed = `127.0.0.1:${await freePort()}`;
    const unreachable = await runFerry(['mirror', '--release', '4.18.1', ...common(`${closed}/ocp`)]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      new RegExp(`^ferry: destination ${closed}/ocp/openshift/release-images: .*\\(nothing copied\\)\\n$`),
    );
    const res = await fetch(`${dst.url}/v2/${ns}-m/openshift/release/tags/list`);
    expect(res.status).toBe(404);
  });

  it('writes release-signatures/ from the signature store (FERRY_RELEASE_SIGNATURES_URL); without one, a warning', async () => {
    const r = release('4.18.1');
    const hex = r.digest.slice('sha256:'.length);
    const asked: string[] = [];
    const store = createServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.url === `/release/sha256=${hex}/signature-1`) res.writeHead(200).end(Buffer.from([1, 2, 3]));
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => store.listen(0, '127.0.0.1', done));
    const { port } = store.address() as AddressInfo;
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-release-sigs-'));
      const args = ['mirror', '--release', '4.18.1', ...common(`${dst.host}/${ns}-s`), '--workspace', dir];
      const signed = await runFerry(
        args,
        cleanEnv({ FERRY_RELEASE_SIGNATURES_URL: `http://127.0.0.1:${port}/release` }),
      );
      expect(signed.code, signed.stderr).toBe(0);
      expect(asked).toEqual([`/release/sha256=${hex}/signature-1`, `/release/sha256=${hex}/signature-2`]);
      expect(readdirSync(join(dir, 'release-signatures'))).toEqual([`signature-sha256-${hex.slice(0, 16)}.json`]);
      const configMap = JSON.parse(
        readFileSync(join(dir, 'release-signatures', `signature-sha256-${hex.slice(0, 16)}.json`), 'utf8'),
      ) as { metadata: { name: string; namespace: string }; binaryData: Record<string, string> };
      expect(configMap.metadata).toMatchObject({ name: `sha256-${hex}`, namespace: 'openshift-config-managed' });
      expect(configMap.binaryData).toEqual({ [`sha256-${hex}-1`]: 'AQID' });

      const unsigned = await runFerry(args);
      expect(unsigned.code, unsigned.stderr).toBe(0);
      expect(unsigned.stderr).toContain(
        'ferry: warning: release signatures not written: set FERRY_RELEASE_SIGNATURES_URL',
      );
    } finally {
      await new Promise<void>((done) => store.close(() => done()));
    }
  });

  it('stops at the first failed image unless --continue-on-error', async () => {
    // 4.18.2's first component is its own image: delete it at the source (the last test to use 4.18.2).
    const gone = release('4.18.2').components[0]!;
    const deleted = await fetch(`${src.url}/v2/${ns}/ocp-v4.0-art-dev/manifests/${gone.digest}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    const statuses = (stdout: string): string[] =>
      stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { status: string; error?: string })
        .map((r) => (r.error?.startsWith('not started') ? 'not started' : r.status));
    const args = (to: string): string[] => [
      'mirror',
      '--release',
      '4.18.2',
      ...common(to),
      '--json',
      '--concurrency',
      '1',
    ];
    const stopped = await runFerry(args(`${dst.host}/${ns}-stop`));
    expect(stopped.code).toBe(1);
    // The release image, then the missing component: nothing after it started.
    expect(statuses(stopped.stdout)).toEqual(['copied', 'failed', ...Array<string>(5).fill('not started')]);
    const going = await runFerry([...args(`${dst.host}/${ns}-go`), '--continue-on-error']);
    expect(going.code).toBe(1);
    expect(statuses(going.stdout)).toEqual(['copied', 'failed', 'copied', 'copied', 'copied', 'copied', 'copied']);
  });

  it('refuses --channel, --arch, --from and --continue-on-error without --release (exit 2)', async () => {
    const result = await runFerry(['mirror', '--arch', 'arm64', '--to', dst.host, 'a.example/x:1']);
    expect([result.code, result.stderr]).toEqual([2, 'ferry: --arch needs --release\n']);
  });
});
