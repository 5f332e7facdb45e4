import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImageCheckpoint } from '../../functions/mirror/blob-checkpoint.js';
import { basicCreds, basicHeader, createEngine } from '../support/engine.js';
import { createRepository } from '../support/ecr-double.js';
import { ecrHost, type EcrStack, startEcrStack } from '../support/ecr-stack.js';
import { remoteDigest, Rng } from '../support/fixtures.js';
import { pushLargeImage } from '../support/large-layer.js';

const MiB = 1024 * 1024;
const { seed, src } = inject('registries');
const rng = new Rng(seed + 13);
const password = `token-${rng.int(1e9)}`;
let stack: EcrStack;
beforeAll(async () => {
  stack = await startEcrStack(password);
});
afterAll(() => stack.stop());

describe('resumable uploads into Amazon ECR (data plane: real registry behind the ECR double)', () => {
  it('sends parts within ECR rules (5 to 20 MiB but the last) even when smaller ones are asked, and parks and resumes', async () => {
    const repo = `resume-ecr/app-${rng.int(1e9)}`;
    const image = await pushLargeImage(src.url, repo, 'v1', 23 * MiB + 123, rng.int(1e9));
    createRepository(stack.ecr, `mirror/${repo}`);
    let checkpoint: ImageCheckpoint | undefined;
    let status = 'continue';
    for (let invocation = 0; invocation < 4 && status === 'continue'; invocation++) {
      const base = checkpoint?.uploads[0]?.offset ?? 0;
      let latest = base;
      const engine = createEngine({
        transport: { endpoints: new Map([[ecrHost, stack.dataPlane.url]]) },
        destinationCredentials: basicCreds(ecrHost, 'AWS', password),
        blobs: { progress: { onBytes: (_d, done) => (latest = done) } },
      });
      try {
        const side = (registry: string, repository: string, role: 'source' | 'destination') =>
          engine.registries.image({ kind: 'registry', ref: { registry, repository, tag: 'v1' } }, role);
        // 1 MiB parts asked: ECR's minimum makes them 5 MiB. The deadline comes after 10 MiB read.
        const result = await engine.copier.copyResumable(
          side(src.host, repo, 'source'),
          side(ecrHost, `mirror/${repo}`, 'destination'),
          { deadline: { remainingMs: () => (latest - base >= 10 * MiB ? 0 : 3_600_000) }, checkpoint, chunkSize: MiB },
        );
        status = result.status;
        if (result.status === 'continue') checkpoint = JSON.parse(JSON.stringify(result.checkpoint)) as ImageCheckpoint;
      } finally {
        await engine.close();
      }
    }
    expect(status).toBe('copied');
    expect(checkpoint?.uploads[0]?.offset).toBeGreaterThan(0);
    expect(await remoteDigest(stack.registry.url, `mirror/${repo}`, 'v1', basicHeader('AWS', password))).toBe(
      image.manifestDigest,
    );
    const sizes = stack.dataPlane.seen
      // Parts carry Content-Range; the small config blob goes in one PATCH without.
      .filter((r) => r.method === 'PATCH' && r.url.includes(`mirror/${repo}/`) && r.headers['content-range'])
      .map((r) => String(r.headers['content-range']).split('-').map(Number))
      .map(([start, end]) => end! - start! + 1);
    expect(sizes.slice(0, -1).every((n) => n === 5 * MiB)).toBe(true);
    expect(sizes.at(-1)).toBe(image.layer.size % (5 * MiB));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(image.layer.size);
  });
});
