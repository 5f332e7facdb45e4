import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transport } from '../../functions/oci/transport.js';
import { cleanEnv, repoRoot } from '../support/cli.js';
import { buildImage, Rng, writeLayout } from '../support/fixtures.js';
import { type Namespace, startNamespace, startNamespaceRegistry } from '../support/netns.js';
import { makeCertificates } from '../support/tls-certs.js';

const ferryBin = join(repoRoot, 'bin', 'ferry.js');
const recordingProxy = join(repoRoot, 'test', 'support', 'recording-proxy.mjs');

describe('Docker Hub base URL', () => {
  it('reaches docker.io at registry-1.docker.io, as Docker, containerd and skopeo do', async () => {
    const transport = new Transport();
    try {
      expect((await transport.baseUrl('docker.io')).href).toBe('https://registry-1.docker.io/');
      expect((await transport.baseUrl('quay.io')).href).toBe('https://quay.io/');
    } finally {
      await transport.close();
    }
  });
  it('lets an explicit endpoint override win', async () => {
    const transport = new Transport({ endpoints: new Map([['docker.io', 'https://mirror.internal:5000']]) });
    try {
      expect((await transport.baseUrl('docker.io')).href).toBe('https://mirror.internal:5000/');
    } finally {
      await transport.close();
    }
  });
});

// Inside a loopback-only namespace "docker.io" cannot be reached: the only way out is a recording
// proxy that tunnels CONNECT registry-1.docker.io:443 to a stand-in TLS registry (a certificate
// for that name from a test CA) and answers 502 to anything else.
describe('ferry copy docker.io/… through HTTPS_PROXY (network namespace)', () => {
  let ns: Namespace;
  let caFile: string;
  let digest: string;
  const hubPort = 443;
  const destPort = 5000;
  const proxyPort = 3128;

  beforeAll(async () => {
    ns = await startNamespace();
    const certs = makeCertificates({ dir: ns.dir, names: ['registry-1.docker.io'] });
    caFile = certs.caFile;
    const rng = new Rng(Number(process.env.FERRY_TEST_SEED ?? 7));
    // A layer over the stream threshold (the pooled exchange) and a small one (undici).
    const image = buildImage({ layers: [rng.bytes(1536 * 1024), rng.bytes(3000)] });
    digest = image.digest;
    expect(image.blobs.some((b) => b.size >= 1 << 20)).toBe(true);
    await writeLayout(join(ns.dir, 'layout'), '1.36', image);
    await startNamespaceRegistry(ns, 'hub', hubPort, certs, { hubuser: 'hubpass' });
    await startNamespaceRegistry(ns, 'dest', destPort);
    ns.spawn(
      process.execPath,
      [recordingProxy, String(proxyPort), join(ns.dir, 'proxy.jsonl'), `registry-1.docker.io:443=127.0.0.1:${hubPort}`],
      { log: 'proxy.log' },
    );
    await ns.waitForPort(proxyPort);
    // Loopback: never proxied; the stand-in is seeded with Ferry itself.
    const seeded = await ns.run(
      process.execPath,
      [
        ferryBin,
        'copy',
        `oci:${join(ns.dir, 'layout')}:1.36`,
        `127.0.0.1:${hubPort}/library/busybox:1.36`,
        '--dest-creds',
        'hubuser:hubpass',
      ],
      { env: cleanEnv() },
    );
    expect(seeded.stderr).toBe('');
    expect(seeded.code).toBe(0);
  });
  afterAll(async () => {
    await ns?.close();
  });

  it('asks the proxy for CONNECT registry-1.docker.io:443, never docker.io:443, and copies the image with the docker.io credential', async () => {
    const env = cleanEnv({ HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` });
    // Docker's own auth-file key for Docker Hub: the credential still belongs to "docker.io".
    mkdirSync(join(env.HOME!, '.docker'));
    writeFileSync(
      join(env.HOME!, '.docker', 'config.json'),
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hubpass').toString('base64') } },
      }),
    );
    const result = await ns.run(
      process.execPath,
      [ferryBin, 'copy', 'docker.io/library/busybox:1.36', `127.0.0.1:${destPort}/x:y`, '--ca-file', caFile, '--json'],
      { env },
    );
    const records = readFileSync(join(ns.dir, 'proxy.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { kind: string; target?: string });
    const targets = new Set(records.map((r) => `${r.kind} ${r.target ?? ''}`));
    expect([...targets]).toEqual(['connect registry-1.docker.io:443']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      source: 'docker.io/library/busybox:1.36',
      digest,
      status: 'copied',
    });
    const inspected = await ns.run(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', `docker://127.0.0.1:${destPort}/x:y`],
      { env: cleanEnv() },
    );
    expect(inspected.code).toBe(0);
    expect(`sha256:${createHash('sha256').update(inspected.stdout).digest('hex')}`).toBe(digest);
  });
});
