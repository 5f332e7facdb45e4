import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatDeletePlan } from '../../functions/mirror/workspace/delete-plan.js';
import { parseDigest } from '../../functions/oci/digest.js';
import { runFerry } from '../support/cli.js';
import { createRepository } from '../support/ecr-double.js';
import { basicHeader } from '../support/engine.js';
import { buildImage, push, Rng } from '../support/fixtures.js';
import { ecrHost, type EcrStack, startEcrStack } from '../support/ecr-stack.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.

const { seed } = inject('registries');
const rng = new Rng(seed + 98);
const password = `token-${rng.int(1e9)}`;
let stack: EcrStack;

beforeAll(async () => {
  stack = await startEcrStack(password);
});
afterAll(() => stack.stop());

const env = () => stack.env();

describe('ferry prune --delete-yaml-file on Amazon ECR', () => {
  it('checks the tag through the registry API and deletes with BatchDeleteImage by digest, never the registry DELETE', async () => {
    const repo = `mirror/prune-${rng.int(1e9)}`;
    createRepository(stack.ecr, repo);
    const image = buildImage({ layers: [rng.bytes(64)] });
    await push(stack.registry.url, repo, 'old', image, basicHeader('AWS', password));
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
    expect(stack.ecr.batchDeletes).toEqual([
      { registryId: '123456789012', repositoryName: repo, imageIds: [{ imageDigest: digest }] },
    ]);
    expect(
      stack.dataPlane.seen.filter((r) => r.method === 'HEAD' && r.url === `/v2/${repo}/manifests/old`),
    ).toHaveLength(1);
    expect(stack.dataPlane.seen.filter((r) => r.method === 'DELETE')).toEqual([]);
  });
});
