import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { ecrHostFor } from '../../functions/oci/ecr-host.js';
import { createRepository, type EcrDouble, startEcrDataPlane, startEcrDouble } from '../support/ecr-double.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { basicHeader } from '../support/engine.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

const rng = new Rng(Number(process.env.FERRY_TEST_SEED ?? 11));
const account = '123456789012';
const home = ecrHostFor(account, 'us-east-1');
const replica = ecrHostFor(account, 'eu-west-1');
const password = `token-${rng.int(1e9)}`;
const auth = basicHeader('AWS', password);
let regions: RunningRegistry[];
let planes: FaultProxy[];
let ecr: EcrDouble;
let server: RunningServer;
const endpointBefore = process.env.AWS_ENDPOINT_URL_ECR;
const lifecycle = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
});

beforeAll(async () => {
  regions = await Promise.all([
    startRegistry({ kind: 'htpasswd', users: { AWS: password } }),
    startRegistry({ kind: 'htpasswd', users: { AWS: password } }),
  ]);
  ecr = await startEcrDouble(password);
  planes = await Promise.all(regions.map((r) => startEcrDataPlane(r.url, ecr)));
  // The AWS SDK reads its endpoints and credentials from the environment; restored in afterAll.
  for (const [name, value] of Object.entries({
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_ENDPOINT_URL_STS: ecr.url,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
  }))
    vi.stubEnv(name, value);
  server = await startService({
    transport: {
      endpoints: new Map([
        [home, planes[0]!.url],
        [replica, planes[1]!.url],
      ]),
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
    },
    home: { registry: home, registryForRegion: (region) => ecrHostFor(account, region) },
    ecrRepositories: {
      tagMutability: 'IMMUTABLE',
      scanOnPush: true,
      lifecyclePolicy: lifecycle,
      tags: { team: 'platform' },
    },
  });
});
afterAll(async () => {
  await server.close();
  await Promise.all([...planes.map((p) => p.stop()), ecr.stop(), ...regions.map((r) => r.stop())]);
  vi.unstubAllEnvs();
  // Later files in this worker must not reach the ECR stand-in through a leftover endpoint.
  expect(process.env.AWS_ENDPOINT_URL_ECR).toBe(endpointBefore);
});

describe('sync_images between two ECR stand-in regions', () => {
  it('replicates the listed tags, leaves a differing tag alone unless override, and says which', async () => {
    const v1 = buildImage({ layers: [rng.bytes(20_000)] });
    const v2 = buildImage({ layers: [rng.bytes(20_000)] });
    const other = buildImage({ layers: [rng.bytes(5_000)] });
    createRepository(ecr, 'team/app');
    await push(regions[0]!.url, 'team/app', 'v1', v1, auth);
    await push(regions[0]!.url, 'team/app', 'v2', v2, auth);
    createRepository(ecr, 'replica/app');
    await push(regions[1]!.url, 'replica/app', 'v2', other, auth);

    const started = await api(server.url, 'POST', '/v1/repos/team/app/sync_images', {
      imageTag: ['v1', 'v2'],
      remoteNamespace: 'replica',
      remoteRegionId: 'eu-west-1',
    });
    expect(started.status).toBe(202);
    const run = await waitForRun(server.url, (started.json as RunView).runId);
    expect(run.status).toBe('completed');
    expect(run.images[`${replica}/replica/app:v1`]).toMatchObject({
      source: `${home}/team/app:v1`,
      status: 'completed',
      digest: v1.digest,
    });
    expect(run.images[`${replica}/replica/app:v2`]).toMatchObject({ status: 'skipped' });
    expect(run.images[`${replica}/replica/app:v2`]!.message).toMatch(/not overridden/);
    expect(await remoteDigest(regions[1]!.url, 'replica/app', 'v1', auth)).toBe(v1.digest);
    expect(await remoteDigest(regions[1]!.url, 'replica/app', 'v2', auth)).toBe(other.digest);

    const forced = await api(server.url, 'POST', '/v1/repos/team/app/sync_images', {
      imageTag: ['v2'],
      remoteNamespace: 'replica',
      remoteRegionId: 'eu-west-1',
      override: true,
    });
    const second = await waitForRun(server.url, (forced.json as RunView).runId);
    expect(second.images[`${replica}/replica/app:v2`]).toMatchObject({ status: 'completed', digest: v2.digest });
    expect(await remoteDigest(regions[1]!.url, 'replica/app', 'v2', auth)).toBe(v2.digest);
  });

  it('creates the replica repository when it does not exist yet', async () => {
    const image = buildImage({ layers: [rng.bytes(3_000)] });
    createRepository(ecr, 'team/new');
    await push(regions[0]!.url, 'team/new', '1.0', image, auth);
    const started = await api(server.url, 'POST', '/v1/repos/team/new/sync_images', {
      imageTag: ['1.0'],
      remoteNamespace: 'dr',
      remoteRegionId: 'eu-west-1',
    });
    const run = await waitForRun(server.url, (started.json as RunView).runId);
    expect(run.status).toBe('completed');
    expect(ecr.repositories.get('dr/new')).toMatchObject({
      imageTagMutability: 'IMMUTABLE',
      scanOnPush: true,
      lifecyclePolicyText: lifecycle,
      tags: [{ Key: 'team', Value: 'platform' }],
    });
    expect(await remoteDigest(regions[1]!.url, 'dr/new', '1.0', auth)).toBe(image.digest);

    // A re-run finds everything in place: all skipped, nothing moved, no tag rewritten (immutable).
    const again = await api(server.url, 'POST', '/v1/repos/team/new/sync_images', {
      imageTag: ['1.0'],
      remoteNamespace: 'dr',
      remoteRegionId: 'eu-west-1',
    });
    const rerun = await waitForRun(server.url, (again.json as RunView).runId);
    expect(rerun).toMatchObject({ status: 'completed', bytesCopied: 0 });
    expect(Object.values(rerun.images).map((i) => i.status)).toEqual(['skipped']);
  });

  it('reaches another account’s ECR through the destination role (STS AssumeRole)', async () => {
    const image = buildImage({ layers: [rng.bytes(3_000)] });
    createRepository(ecr, 'team/cross');
    await push(regions[0]!.url, 'team/cross', '1.0', image, auth);
    const signersBefore = ecr.signers.length;
    const role = 'arn:aws:iam::123456789012:role/ferry-push';
    const started = await api(server.url, 'POST', '/v1/runs', {
      images: [`${home}/team/cross:1.0`],
      destination: { registry: replica, prefix: 'partner', roleArn: role },
    });
    expect(started.status).toBe(202);
    const run = await waitForRun(server.url, (started.json as RunView).runId);
    expect(run.status).toBe('completed');
    expect(ecr.assumedRoles).toContain(role);
    const signers = ecr.signers.slice(signersBefore);
    expect(signers).toContain('ASIAASSUMEDROLE'); // destination token and CreateRepository as the role
    // The source (this account) is read as the function's own role, the destination only as the assumed one.
    expect(signers.filter((k) => k !== 'ASIAASSUMEDROLE').every((k) => k === 'AKIDEXAMPLE')).toBe(true);
    expect(
      ecr.signers.slice(signersBefore).filter((k, i) => ecr.calls[signersBefore + i] === 'CreateRepository'),
    ).toEqual(['ASIAASSUMEDROLE']);
    expect(ecr.repositories.has('partner/team/cross')).toBe(true);
    expect(await remoteDigest(regions[1]!.url, 'partner/team/cross', '1.0', auth)).toBe(image.digest);
  });

  it('answers 400 naming the field for a bad body', async () => {
    const res = await api(server.url, 'POST', '/v1/repos/team/app/sync_images', {
      imageTag: ['v1'],
      remoteNamespace: 'replica',
      remoteRegionId: 'mars',
    });
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(/^remoteRegionId: /);
  });
});
