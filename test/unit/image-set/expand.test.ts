import { describe, expect, it } from 'vitest';
import type { ImageSet } from '../../../functions/mirror/image-set/document.js';
import { parseImageSet } from '../../../functions/mirror/image-set/document.js';
import { expandImageSet, type TagLister } from '../../../functions/mirror/image-set/expand.js';
import type { ImageReference } from '../../../functions/oci/reference.js';
import { digestA, fixtureTags, issueExample } from './fixtures.js';

/** A scripted tag listing with a call log; repositories it does not know fail as a registry would. */
function fakeLister(tags: Record<string, readonly string[]>): TagLister & { calls: ImageReference[] } {
  const calls: ImageReference[] = [];
  return {
    calls,
    listTags(repository) {
      calls.push(repository);
      const listed = tags[`${repository.registry}/${repository.repository}`];
      return listed === undefined ? Promise.reject(new Error('NAME_UNKNOWN')) : Promise.resolve([...listed]);
    },
  };
}

const set = (partial: Partial<ImageSet>): ImageSet => ({
  additionalImages: [],
  blockedImages: [],
  repositories: [],
  ...partial,
});

describe('expandImageSet', () => {
  it("expands issue 9's example: additional images by tag and digest, the repository's policy, platforms", async () => {
    const lister = fakeLister({ 'docker.io/library/nginx': fixtureTags });
    const images = await expandImageSet(parseImageSet(issueExample).set, lister, {
      registry: 'reg.example.com',
      prefix: 'mirror',
    });
    expect(images).toEqual([
      {
        source: 'registry.k8s.io/pause:3.10',
        destination: 'reg.example.com/mirror/pause:3.10',
        byDigest: false,
      },
      {
        source: `quay.io/org/app@${digestA}`,
        destination: `reg.example.com/mirror/org/app@${digestA}`,
        byDigest: true,
      },
      ...['1.28.0', '1.27.1', '1.26.3'].map((tag) => ({
        source: `docker.io/library/nginx:${tag}`,
        destination: `reg.example.com/mirror/library/nginx:${tag}`,
        byDigest: false,
        platforms: ['linux/amd64'],
      })),
    ]);
    expect(lister.calls).toEqual([{ registry: 'docker.io', repository: 'library/nginx' }]);
  });

  it('names destinations without a prefix as <registry>/<source path>', async () => {
    const images = await expandImageSet(set({ additionalImages: [{ name: 'busybox:1.36' }] }), fakeLister({}), {
      registry: 'localhost:5000',
    });
    expect(images).toEqual([
      { source: 'docker.io/library/busybox:1.36', destination: 'localhost:5000/library/busybox:1.36', byDigest: false },
    ]);
  });

  it('reports blocked images with blocked: true instead of dropping them', async () => {
    const images = await expandImageSet(
      set({
        additionalImages: [{ name: 'busybox:1.36' }, { name: 'alpine:3.20' }],
        blockedImages: [{ name: 'docker.io/library/busybox' }, { name: ':1\\.2[67]' }],
        repositories: [{ name: 'nginx', tags: { semver: '~1.26 || ~1.27' } }],
      }),
      fakeLister({ 'docker.io/library/nginx': fixtureTags }),
      { registry: 'reg.example.com', prefix: 'm' },
    );
    expect(images.map((i) => [i.source, i.blocked ?? false])).toEqual([
      ['docker.io/library/busybox:1.36', true],
      ['docker.io/library/alpine:3.20', false],
      ['docker.io/library/nginx:1.26.0', true],
      ['docker.io/library/nginx:1.26.3', true],
      ['docker.io/library/nginx:v1.27.0', false],
      ['docker.io/library/nginx:1.27.1', true],
    ]);
  });

  it('blocks by destination as oc-mirror does', async () => {
    const images = await expandImageSet(
      set({
        additionalImages: [{ name: 'quay.io/org/app:1' }],
        blockedImages: [{ name: '^reg\\.example\\.com/m/org/' }],
      }),
      fakeLister({}),
      { registry: 'reg.example.com', prefix: 'm' },
    );
    expect(images[0]!.blocked).toBe(true);
  });

  it('lists the same source once: the first occurrence wins', async () => {
    const images = await expandImageSet(
      set({
        additionalImages: [{ name: 'docker.io/library/nginx:1.28.0' }, { name: 'nginx:1.28.0' }],
        repositories: [{ name: 'docker.io/library/nginx', tags: { latest: 2 }, platforms: ['linux/arm64'] }],
      }),
      fakeLister({ 'docker.io/library/nginx': fixtureTags }),
      { registry: 'r.example.com' },
    );
    expect(images.map((i) => [i.source, i.platforms])).toEqual([
      ['docker.io/library/nginx:1.28.0', undefined],
      ['docker.io/library/nginx:2.0.0', ['linux/arm64']],
    ]);
  });

  it('lists each repository once, by name without tag, and keeps document order across repositories', async () => {
    const lister = fakeLister({ 'quay.io/a/one': ['1.0.0', '2.0.0'], 'quay.io/a/two': ['x', 'y'] });
    const images = await expandImageSet(
      set({
        repositories: [
          { name: 'quay.io/a/one', tags: { latest: 1 } },
          { name: 'quay.io/a/two', tags: { exclude: ['x'] } },
        ],
      }),
      lister,
      { registry: 'r.example.com', prefix: 'p/q' },
    );
    expect(images.map((i) => i.destination)).toEqual(['r.example.com/p/q/a/one:2.0.0', 'r.example.com/p/q/a/two:y']);
    expect(lister.calls).toEqual([
      { registry: 'quay.io', repository: 'a/one' },
      { registry: 'quay.io', repository: 'a/two' },
    ]);
  });

  it('lists a repository named twice once, and applies both policies', async () => {
    const lister = fakeLister({ 'docker.io/library/nginx': fixtureTags });
    const images = await expandImageSet(
      set({
        repositories: [
          { name: 'nginx', tags: { latest: 1 } },
          { name: 'docker.io/library/nginx', tags: { include: ['^stable$'] } },
        ],
      }),
      lister,
      { registry: 'r.example.com' },
    );
    expect(images.map((i) => i.source)).toEqual(['docker.io/library/nginx:2.0.0', 'docker.io/library/nginx:stable']);
    expect(lister.calls).toEqual([{ registry: 'docker.io', repository: 'library/nginx' }]);
  });

  it('yields nothing for a repository whose policy selects nothing', async () => {
    const images = await expandImageSet(
      set({ repositories: [{ name: 'quay.io/a/one', tags: { semver: '>=9' } }] }),
      fakeLister({ 'quay.io/a/one': fixtureTags }),
      { registry: 'r.example.com' },
    );
    expect(images).toEqual([]);
  });

  it('fails the whole expansion when a listing fails (a partial set would make prune delete tags)', async () => {
    const result = expandImageSet(set({ repositories: [{ name: 'quay.io/a/missing', tags: {} }] }), fakeLister({}), {
      registry: 'r.example.com',
    });
    await expect(result).rejects.toThrow('NAME_UNKNOWN');
  });

  it('bounds listTags calls in flight to the concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const lister: TagLister = {
      async listTags() {
        inFlight++;
        peak = Math.max(peak, inFlight);
        for (let i = 0; i < 5; i++) await Promise.resolve(); // yield to the other tasks, no timers
        inFlight--;
        return ['1.0.0'];
      },
    };
    const repositories = Array.from({ length: 7 }, (_, i) => ({ name: `quay.io/a/r${i}`, tags: {} }));
    const images = await expandImageSet(
      set({ repositories }),
      lister,
      { registry: 'r.example.com' },
      { concurrency: 2 },
    );
    expect(images).toHaveLength(7);
    expect(peak).toBe(2);
  });
});
