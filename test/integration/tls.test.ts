import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { runFerry, skopeoDigest } from '../support/cli.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { makeCertificates, nonLoopbackAddress, type TestCertificates } from '../support/tls-certs.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 13);
let secure: RunningRegistry;
let certs: TestCertificates;
beforeAll(async () => {
  const address = nonLoopbackAddress();
  certs = makeCertificates(address);
  secure = await startRegistry({ kind: 'none' }, { address, certFile: certs.certFile, keyFile: certs.keyFile });
});
afterAll(async () => {
  await secure.stop();
});

// A 2 MiB layer streams on the pooled path (TLS of its own); the config goes through undici.
const image = () => buildImage({ layers: [rng.bytes(2 << 20), rng.bytes(3_000)] });

describe('TLS registries', () => {
  it('copies into and out of a registry whose certificate a --ca-file CA signed, verifying it', async () => {
    const built = image();
    const repo = `tls/ca-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', built);
    const into = await runFerry(['copy', '--ca-file', certs.caFile, `${src.host}/${repo}:v1`, `${secure.host}/${repo}:v1`]);
    expect(into.stderr).toBe('');
    expect(into.code).toBe(0);
    expect(await skopeoDigest(`${secure.host}/${repo}:v1`)).toBe(built.digest);
    const back = await runFerry(['copy', '--json', '--ca-file', certs.caFile, `${secure.host}/${repo}:v1`, `${dst.host}/${repo}:v1`]);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ status: 'copied', digest: built.digest, blobs: { copied: 3 } });
    expect(await remoteDigest(dst.url, repo, 'v1')).toBe(built.digest);
  });

  it('refuses a certificate it cannot verify, naming the registry, and copies nothing', async () => {
    const built = image();
    const repo = `tls/untrusted-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', built);
    const result = await runFerry(['copy', `${src.host}/${repo}:v1`, `${secure.host}/${repo}:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(secure.host);
    expect(result.stderr).toMatch(/certificate not trusted: add its CA, or mark .* insecure/);
    expect(result.stderr).not.toMatch(/\bat .*\.(ts|js|cjs):\d+/);
    await expect(skopeoDigest(`${secure.host}/${repo}:v1`)).rejects.toThrow();
  });

  it('skips verification only for a host marked --insecure', async () => {
    const built = image();
    const repo = `tls/insecure-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', built);
    const result = await runFerry(['copy', '--insecure', secure.host, `${src.host}/${repo}:v1`, `${secure.host}/${repo}:v1`]);
    expect(result.code).toBe(0);
    expect(await skopeoDigest(`${secure.host}/${repo}:v1`)).toBe(built.digest);
  });
});
