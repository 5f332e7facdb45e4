import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatDeletePlan } from '../../functions/mirror/workspace/delete-plan.js';
import { parseDigest } from '../../functions/oci/digest.js';
import { cleanEnv, runFerry } from '../support/cli.js';
import { createRepository, type EcrDouble, startEcrDataPlane, startEcrDouble } from '../support/ecr-double.js';
import { basicHeader } from '../support/engine.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { buildImage, push, Rng } from '../support/fixtures.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.

const { seed } = inject('registries');
const rng = new Rng(seed + 98);
const ecrHost = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const password = `token-${rng.int(1e9)}`;
let registry: RunningRegistry;
let ecr: EcrDouble;
let dataPlane: FaultProxy;

beforeAll(async () => {
  registry = await startRegistry({ kind: 'htpasswd', users: { AWS: password } });
  ecr = await startEcrDouble(password);
  dataPlane = await startEcrDataPlane(registry.url, ecr);
});
afterAll(async () => {
  await dataPlane.stop();
  await ecr.stop();
  await registry.stop();
});

const env = () =>
  cleanEnv({
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
    FERRY_REGISTRY_ENDPOINTS: `${ecrHost}=${dataPlane.url}`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });

describe('ferry prune --delete-yaml-file on Amazon ECR', () => {
  it('checks the tag through the registry API and deletes with BatchDeleteImage by digest, never the registry DELETE', async () => {
    const repo = `mirror/prune-${rng.int(1e9)}`;
    createRepository(ecr, repo);
    const image = buildImage({ layers: [rng.bytes(64)] });
    await push(registry.url, repo, 'old', image, basicHeader('AWS', password));
    const digest = parseDigest(image.digest);
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-prune-ecr-')), 'delete-images.yaml');
    writeFileSync(file, formatDeletePlan([{ source: 'x', destination: `${ecrHost}/${repo}:old`, digest }]));

    const result = await runFerry(['prune', '--delete-yaml-file', file, '--to', `${ecrHost}/mirror`, '--json'], env());

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      source: 'x',
      destination: `${ecrHost}/${repo}:old`,
      digest,
      status: 'deleted',
    });
    expect(ecr.batchDeletes).toEqual([
      { registryId: '123456789012', repositoryName: repo, imageIds: [{ imageDigest: digest }] },
    ]);
    expect(dataPlane.seen.filter((r) => r.method === 'HEAD' && r.url === `/v2/${repo}/manifests/old`)).toHaveLength(1);
    expect(dataPlane.seen.filter((r) => r.method === 'DELETE')).toEqual([]);
  });
});
