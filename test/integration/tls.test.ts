import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { runFerry, skopeoDigest } from '../support/cli.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { makeCertificates, type TestCertificates } from '../support/tls-certs.js';

// The TLS registry listens on 127.0.0.1 with a certificate for 127.0.0.1. Loopback registries
// skip verification (as Docker's do) unless `--tls-verify HOST[:PORT]` turns it on.
const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 13);
let secure: RunningRegistry;
let certs: TestCertificates;
beforeAll(async () => {
  certs = makeCertificates();
  secure = await startRegistry({ kind: 'none' }, { certFile: certs.certFile, keyFile: certs.keyFile });
});
afterAll(async () => {
  await secure.stop();
});

/** The TLS registry as `localhost:PORT` (its certificate names both). */
const byName = (): string => secure.host.replace('127.0.0.1', 'localhost');

// A 2 MiB layer streams on the pooled path (TLS of its own); the config goes through undici.
const image = () => buildImage({ layers: [rng.bytes(2 << 20), rng.bytes(3_000)] });

describe('TLS registries', () => {
  it('copies into and out of a registry under --tls-verify whose certificate a --ca-file CA signed, verifying it', async () => {
    const built = image();
    const repo = `tls/ca-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', built);
    const verify = ['--tls-verify', secure.host, '--ca-file', certs.caFile];
    const into = await runFerry(['copy', ...verify, `${src.host}/${repo}:v1`, `${secure.host}/${repo}:v1`]);
    expect(into.stderr).toBe('');
    expect(into.code).toBe(0);
    expect(await skopeoDigest(`${secure.host}/${repo}:v1`)).toBe(built.digest);
    const back = await runFerry(['copy', '--json', ...verify, `${secure.host}/${repo}:v1`, `${dst.host}/${repo}:v1`]);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ status: 'copied', digest: built.digest, blobs: { copied: 3 } });
    expect(await remoteDigest(dst.url, repo, 'v1')).toBe(built.digest);
  });

  it('refuses under --tls-verify a certificate it cannot verify, naming the registry, and copies nothing (copy and mirror)', async () => {
    const built = image();
    const repo = `tls/untrusted-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', built);
    const copy = await runFerry([
      'copy',
      '--tls-verify',
      secure.host,
      `${src.host}/${repo}:v1`,
      `${secure.host}/${repo}:v1`,
    ]);
    expect(copy.code).toBe(1);
    expect(copy.stderr.trim().split('\n')).toHaveLength(1);
    expect(copy.stderr).toContain(secure.host);
    expect(copy.stderr).toContain(`certificate not trusted: add its CA, or drop ${secure.host} from --tls-verify`);
    expect(copy.stderr).not.toMatch(/\bat .*\.(ts|js|cjs):\d+/);
    // A host-wide entry verifies every port of that host (here the registry by its other name).
    const mirror = await runFerry([
      'mirror',
      '--tls-verify',
      'localhost',
      '--to',
      `${byName()}/m`,
      `${src.host}/${repo}:v1`,
    ]);
    expect(mirror.code).toBe(1);
    expect(`${mirror.stdout}${mirror.stderr}`).toContain(
      'certificate not trusted: add its CA, or drop localhost from --tls-verify',
    );
    // Copies nothing: the registry answers, and has no such manifest (not skopeo failing for another reason).
    await expect(skopeoDigest(`${secure.host}/${repo}:v1`)).rejects.toThrow(/manifest unknown/i);
    await expect(skopeoDigest(`${secure.host}/m/${repo}:v1`)).rejects.toThrow(/manifest unknown/i);
  });

  it('skips verification for a loopback host by default, and for a host:port marked --insecure under a host-wide --tls-verify', async () => {
    const built = image();
    const repo = `tls/insecure-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', built);
    const plain = await runFerry(['copy', `${src.host}/${repo}:v1`, `${secure.host}/${repo}:v1`]);
    expect(plain.code).toBe(0);
    const insecure = await runFerry([
      'copy',
      '--tls-verify',
      'localhost',
      '--insecure',
      byName(),
      `${src.host}/${repo}:v1`,
      `${byName()}/${repo}:v2`,
    ]);
    expect(insecure.stderr).toBe('');
    expect(insecure.code).toBe(0);
    expect(await skopeoDigest(`${secure.host}/${repo}:v1`)).toBe(built.digest);
    expect(await skopeoDigest(`${secure.host}/${repo}:v2`)).toBe(built.digest);
  });
});

describe("skopeo's spellings", () => {
  it('--dest-tls-verify=true is --tls-verify for the destination (refused: untrusted); =false lets the copy through, --quiet prints nothing', async () => {
    const built = image();
    const repo = `tls/skopeo-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', built);
    const verified = await runFerry([
      'copy',
      '--dest-tls-verify=true',
      `${src.host}/${repo}:v1`,
      `${secure.host}/${repo}:v1`,
    ]);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain('certificate not trusted');
    const plain = await runFerry([
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--all',
      '--retry-times',
      '2',
      '--quiet',
      `${src.host}/${repo}:v1`,
      `${secure.host}/${repo}:v1`,
    ]);
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([0, '', '']);
    expect(await skopeoDigest(`${secure.host}/${repo}:v1`)).toBe(built.digest);
    const bad = await runFerry(['copy', '--src-tls-verify=maybe', `${src.host}/${repo}:v1`, `${dst.host}/${repo}:v1`]);
    expect(bad.code).toBe(2);
  });
});
