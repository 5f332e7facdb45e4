import { describe, expect, it } from 'vitest';
import { readReleasePayload, resolveReleaseManifest } from '../../../functions/mirror/release/payload.js';
import { buildImage, buildIndex } from '../../support/fixtures.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { imageReferences, releaseImage, storeBuilt, tarLayer } from '../../support/release-fixture.js';

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const components = Array.from({ length: 3 }, (_, i) => ({
  name: `component-${i}`,
  image: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${digest(i + 1)}`,
}));

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as Error & { code?: string },
  );
}

async function payloadOf(built: Awaited<ReturnType<typeof releaseImage>>) {
  const repo = new MemoryRepository('openshift-release-dev/ocp-release', { registry: 'quay.io' });
  storeBuilt(repo, built, '4.17.3-x86_64');
  return readReleasePayload(repo, await resolveReleaseManifest(repo, '4.17.3-x86_64', 'amd64'));
}

describe('readReleasePayload', () => {
  it('reads the version and every component by digest, in payload order', async () => {
    const payload = await payloadOf(await releaseImage('4.17.3', components, 'amd64'));
    expect(payload).toEqual({ version: '4.17.3', components });
  });

  it.each([
    [
      'a component by tag',
      { references: JSON.stringify(imageReferences('4.17.3', [{ name: 'cli', image: 'quay.io/a/b:latest' }])) },
    ],
    [
      'a bad component name',
      { references: JSON.stringify(imageReferences('4.17.3', [{ name: 'Bad Name', image: components[0]!.image }])) },
    ],
    ['a component twice', { references: JSON.stringify(imageReferences('4.17.3', [components[0]!, components[0]!])) }],
    ['no components', { references: JSON.stringify(imageReferences('4.17.3', [])) }],
    ['not an ImageStream', { references: JSON.stringify({ kind: 'List', spec: { tags: [] } }) }],
    ['image-references not JSON', { references: '{nope' }],
    ['a version that is not semver', { metadata: JSON.stringify({ version: 'latest' }) }],
    ['a version with build metadata', { metadata: JSON.stringify({ version: '4.17.3+abc' }) }],
  ])('refuses %s (RELEASE_PAYLOAD_INVALID)', async (_, options) => {
    const err = await rejection(payloadOf(await releaseImage('4.17.3', components, 'amd64', options)));
    expect([err.name, err.code]).toEqual(['ReleaseError', 'RELEASE_PAYLOAD_INVALID']);
  });

  it('refuses an image without release-manifests/release-metadata, naming the file', async () => {
    const layer = await tarLayer([
      { name: 'release-manifests/image-references', data: JSON.stringify(imageReferences('4.17.3', components)) },
    ]);
    const err = await rejection(payloadOf(buildImage({ layers: [layer] })));
    expect([err.name, err.code]).toEqual(['ReleaseError', 'RELEASE_PAYLOAD_INVALID']);
    expect(err.message).toContain('release-manifests/release-metadata');
  });

  it('applies a later layer that whites the payload out', async () => {
    const built = await releaseImage('4.17.3', components, 'amd64');
    const whiteout = await tarLayer([{ name: 'release-manifests/.wh.image-references', data: '' }]);
    const err = await rejection(
      payloadOf(
        buildImage({
          layers: [...built.blobs.slice(1).map((b) => b.data), whiteout],
        }),
      ),
    );
    expect(err.message).toContain('no release-manifests/image-references');
  });
});

describe('resolveReleaseManifest', () => {
  it('picks the asked architecture in an index, the index itself for multi, and refuses a missing one', async () => {
    const amd = await releaseImage('4.17.3', components, 'amd64');
    const arm = await releaseImage('4.17.3', components, 'arm64');
    const index = buildIndex([
      { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    const repo = new MemoryRepository('openshift-release-dev/ocp-release', { registry: 'quay.io' });
    storeBuilt(repo, index, '4.17.3-multi');
    expect((await resolveReleaseManifest(repo, '4.17.3-multi', 'arm64')).digest).toBe(arm.digest);
    const multi = await resolveReleaseManifest(repo, index.digest, 'multi');
    expect([multi.digest, multi.image.digest]).toEqual([index.digest, amd.digest]);
    const err = await rejection(resolveReleaseManifest(repo, index.digest, 's390x'));
    expect([err.name, err.code]).toEqual(['ReleaseError', 'RELEASE_ARCH_MISSING']);
  });
});
