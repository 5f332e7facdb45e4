import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { basicHeader } from '../support/engine.js';
import type { EcrDouble } from '../support/ecr-double.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { buildImage, buildIndex, push, remoteDigest, Rng } from '../support/fixtures.js';
import { cleanEnv, runFerry } from '../support/cli.js';
import type { RunningRegistry } from '../support/registry-process.js';
import { ecrHost, type EcrStack, startEcrStack } from '../support/ecr-stack.js';

const { seed, src } = inject('registries');
const rng = new Rng(seed + 9);
const password = `token-${rng.int(1e9)}`;
let stack: EcrStack;
let registry: RunningRegistry;
let ecr: EcrDouble;
let dataPlane: FaultProxy;

beforeAll(async () => {
  stack = await startEcrStack(password);
  ({ registry, ecr, dataPlane } = stack);
});
afterAll(() => stack.stop());

const env = () => stack.env();

describe('Amazon ECR as destination (control-plane double + real data plane)', () => {
  it('creates the missing repository with the configured settings, authenticates with GetAuthorizationToken, and copies with digests preserved', async () => {
    const index = buildIndex([
      { image: buildImage({ layers: [rng.bytes(300_000)] }), platform: { os: 'linux', architecture: 'amd64' } },
      {
        image: buildImage({ layers: [rng.bytes(200_000)], platform: { os: 'linux', architecture: 'arm64' } }),
        platform: { os: 'linux', architecture: 'arm64' },
      },
    ]);
    const repo = `ecr/app-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', index);
    const tokensBefore = ecr.calls.filter((c) => c === 'GetAuthorizationToken').length;
    const result = await runFerry(
      [
        'copy',
        '--json',
        '--ecr-immutable-tags',
        '--ecr-scan-on-push',
        '--ecr-kms-key',
        'arn:aws:kms:us-east-1:123456789012:key/abcd',
        `${src.host}/${repo}:v1`,
        `${ecrHost}/mirror/${repo}:v1`,
      ],
      env(),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      destination: `${ecrHost}/mirror/${repo}:v1`,
      digest: index.digest,
      status: 'copied',
    });
    expect(ecr.repositories.get(`mirror/${repo}`)).toMatchObject({
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: true,
      encryption: { encryptionType: 'KMS', kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/abcd' },
    });
    expect(await remoteDigest(registry.url, `mirror/${repo}`, 'v1', basicHeader('AWS', password))).toBe(index.digest);
    expect(dataPlane.seen.filter((r) => r.method === 'PATCH' && r.url.includes(`mirror/${repo}/`)).length).toBe(4);
    // One token for the whole copy (dozens of requests): cached per account and region.
    expect(ecr.calls.filter((c) => c === 'GetAuthorizationToken').length - tokensBefore).toBe(1);

    const again = await runFerry(['copy', '--json', `${src.host}/${repo}:v1`, `${ecrHost}/mirror/${repo}:v1`], env());
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'skipped', bytes: 0 });
    expect(ecr.calls.filter((c) => c === 'CreateRepository').length).toBeGreaterThanOrEqual(1);
  });

  it('reports an immutable tag that points elsewhere as one clear failure, without retrying', async () => {
    const repo = `ecr/immutable-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', buildImage({ layers: [rng.bytes(5_000)] }));
    await push(src.url, repo, 'v2', buildImage({ layers: [rng.bytes(5_000)] }));
    const first = await runFerry(
      ['copy', '--ecr-immutable-tags', `${src.host}/${repo}:v1`, `${ecrHost}/${repo}:stable`],
      env(),
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const before = dataPlane.seen.filter(
      (r) => r.method === 'PUT' && r.url.endsWith(`${repo}/manifests/stable`),
    ).length;
    const result = await runFerry(['copy', `${src.host}/${repo}:v2`, `${ecrHost}/${repo}:stable`], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already exists .* immutable/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(
      dataPlane.seen.filter((r) => r.method === 'PUT' && r.url.endsWith(`${repo}/manifests/stable`)).length - before,
    ).toBe(1);
  });

  it('retries a throttled ECR (429) and restarts an upload whose Range stopped advancing', async () => {
    const repo = `ecr/quirks-${rng.int(1e9)}`;
    const image = buildImage({ layers: [rng.bytes(400_000)] });
    await push(src.url, repo, 'v1', image);
    let patches = 0;
    let throttled = 0;
    const quirky = await startFaultProxy(dataPlane.url, (r): Fault | undefined => {
      if (r.method === 'HEAD' && r.url.includes('/manifests/') && throttled++ < 2) {
        return {
          kind: 'respond',
          status: 429,
          headers: { 'retry-after': '0' },
          body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}',
        };
      }
      // The first PATCH of the layer reports only part of the upload as received.
      if (r.method === 'PATCH' && Number(r.headers['content-length']) === image.blobs[1]!.size && patches++ === 0) {
        return { kind: 'rewrite', headers: { range: '0-1023' } };
      }
      return undefined;
    });
    try {
      const result = await runFerry(
        ['copy', '--json', `${src.host}/${repo}:v1`, `${ecrHost}/${repo}:v1`],
        cleanEnv({ ...env(), FERRY_REGISTRY_ENDPOINTS: `${ecrHost}=${quirky.url}` }),
      );
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toMatchObject({ digest: image.digest, status: 'copied' });
      expect(throttled).toBeGreaterThanOrEqual(3);
      expect(patches).toBe(2);
      expect(await remoteDigest(registry.url, repo, 'v1', basicHeader('AWS', password))).toBe(image.digest);
    } finally {
      await quirky.stop();
    }
  });

  it('retries ECR control-plane throttling (ThrottlingException) and goes on', async () => {
    const repo = `ecr/throttled-${rng.int(1e9)}`;
    const image = buildImage({ layers: [rng.bytes(2_000)] });
    await push(src.url, repo, 'v1', image);
    const before = ecr.calls.length;
    ecr.throttleNext(2);
    const result = await runFerry(['copy', '--json', `${src.host}/${repo}:v1`, `${ecrHost}/${repo}:v1`], env());
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ digest: image.digest, status: 'copied' });
    const calls = ecr.calls.slice(before);
    expect(
      calls.filter((c) => c === 'GetAuthorizationToken').length + calls.filter((c) => c === 'CreateRepository').length,
    ).toBeGreaterThanOrEqual(4);
    expect(ecr.repositories.has(repo)).toBe(true);
  });

  it('fails with the registry and repository named when repository creation is turned off', async () => {
    const repo = `ecr/nocreate-${rng.int(1e9)}`;
    await push(src.url, repo, 'v1', buildImage({ layers: [rng.bytes(1_000)] }));
    const result = await runFerry(
      ['copy', '--no-create-repositories', `${src.host}/${repo}:v1`, `${ecrHost}/${repo}:v1`],
      env(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${ecrHost}/${repo}`);
    expect(result.stderr).toMatch(/NAME_UNKNOWN|does not exist/);
  });
});
