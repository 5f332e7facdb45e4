import { describe, expect, it, vi } from 'vitest';
import { createCopyEngine } from '../../../functions/mirror/engine.js';
import { Limiter } from '../../../functions/mirror/limiter.js';
import { walkTree } from '../../../functions/mirror/manifest-tree.js';
import { anonymous } from '../../../functions/oci/auth/credentials.js';
import { parseDigest } from '../../../functions/oci/digest.js';
import { MediaType } from '../../../functions/oci/media-types.js';
import { type Location, parseLocation } from '../../../functions/oci/reference.js';
import { locationReference } from '../../../functions/oci/registries.js';
import type { Repository } from '../../../functions/oci/repository.js';
import { Transport } from '../../../functions/oci/transport.js';
import { type RunEngine, runImage } from '../../../functions/runs/engine.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { addImage, addIndex, amd64, arm64, bytes } from './images.js';

const digest = parseDigest(`sha256:${'ab'.repeat(32)}`);

function engine(options: { checkRepository?: (registry: string, repository: string) => void } = {}) {
  return createCopyEngine({ sourceCredentials: anonymous, destinationCredentials: anonymous, ...options });
}

describe('locationReference / Registries.image: one side of a copy straight from a location', () => {
  it.each<[string, Location, string]>([
    [
      'a registry digest',
      { kind: 'registry', ref: { registry: 'r.test', repository: 'a', tag: 'v1', digest } },
      digest,
    ],
    ['a registry tag', { kind: 'registry', ref: { registry: 'r.test', repository: 'a', tag: 'v1' } }, 'v1'],
    ['neither', { kind: 'registry', ref: { registry: 'r.test', repository: 'a' } }, 'latest'],
    ['a layout tag', { kind: 'layout', ref: { dir: '/images/app', tag: 'v2' } }, 'v2'],
    ['a tagless layout', { kind: 'layout', ref: { dir: '/images/app' } }, 'latest'],
  ])('takes %s', (_, location, reference) => {
    expect(locationReference(location)).toBe(reference);
    const side = engine().registries.image(location, 'source');
    expect(side.reference).toBe(reference);
    expect(side.repository.display).toBe(
      location.kind === 'layout' ? `oci:${location.ref.dir}` : `${location.ref.registry}/${location.ref.repository}`,
    );
  });

  it('hands out one layout handle per directory', () => {
    const { registries } = engine();
    const a = registries.image(parseLocation('oci:/images/app:v1'), 'source').repository;
    const b = registries.image(parseLocation('oci:/images/app:v2'), 'destination').repository;
    expect(a).toBe(b);
  });

  it('keeps one client per registry and role: sources and destinations never share credentials', () => {
    const { registries } = engine();
    expect(registries.client('r.test', 'source')).toBe(registries.client('r.test', 'source'));
    expect(registries.client('r.test', 'source')).not.toBe(registries.client('r.test', 'destination'));
  });
});

describe('createCopyEngine: the repository check (ECR scope)', () => {
  it('refuses a registry repository before a handle is made', () => {
    const seen: string[] = [];
    const refusal = Object.assign(new Error('outside the scope'), { name: 'EcrScopeError' });
    const { registries } = engine({
      checkRepository: (registry, repository) => {
        seen.push(`${registry}/${repository}`);
        if (repository.startsWith('private/')) throw refusal;
      },
    });
    expect(registries.image(parseLocation('r.test/mirror/app:v1'), 'destination').reference).toBe('v1');
    expect(() => registries.image(parseLocation('r.test/private/db:v1'), 'source')).toThrow(refusal);
    expect(seen).toEqual(['r.test/mirror/app', 'r.test/private/db']);
  });

  it('does not ask about layout directories', () => {
    const check = vi.fn();
    engine({ checkRepository: check }).registries.image(parseLocation('oci:/images/app'), 'destination');
    expect(check).not.toHaveBeenCalled();
  });
});

describe('createCopyEngine: the transport', () => {
  it('closes a transport it built', async () => {
    const built = engine();
    const close = vi.spyOn(built.transport, 'close');
    await built.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('uses a transport it is given and leaves closing it to its owner', async () => {
    const shared = new Transport();
    const close = vi.spyOn(shared, 'close');
    const built = createCopyEngine({
      transport: shared,
      sourceCredentials: anonymous,
      destinationCredentials: anonymous,
    });
    expect(built.transport).toBe(shared);
    await built.close();
    expect(close).not.toHaveBeenCalled();
    await shared.close();
  });

  it('builds its own transport from options', async () => {
    const built = createCopyEngine({
      transport: { insecureHosts: ['plain.test'] },
      sourceCredentials: anonymous,
      destinationCredentials: anonymous,
    });
    expect(built.transport.isInsecure('plain.test')).toBe(true);
    expect(built.transport.isInsecure('secure.test')).toBe(false);
    await built.close();
  });
});

describe('runImage: one side of a run’s copy', () => {
  it('takes the repository from the run’s engine and the digest, else the tag', () => {
    const asked: [Location, string][] = [];
    const repo = new MemoryRepository('a');
    const run: RunEngine = {
      repository: (location, role) => (asked.push([location, role]), repo as Repository),
      copier: engine().copier,
    };
    const ref = { registry: 'r.test', repository: 'a', tag: 'v1' };
    expect(runImage(run, ref, 'source')).toEqual({ repository: repo, reference: 'v1' });
    expect(runImage(run, { ...ref, digest }, 'destination').reference).toBe(digest);
    expect(asked).toEqual([
      [{ kind: 'registry', ref }, 'source'],
      [{ kind: 'registry', ref: { ...ref, digest } }, 'destination'],
    ]);
  });
});

describe('walkTree: the one walk behind copy and plan', () => {
  function walkOf(source: MemoryRepository, destination: MemoryRepository, includeForeignLayers = false) {
    return { source, destination, manifests: new Limiter(4), includeForeignLayers };
  }

  it('leaves every child before its index, and reports each child read from the source', async () => {
    const source = new MemoryRepository('s');
    const destination = new MemoryRepository('d');
    const index = addIndex(source, [amd64, arm64], 'v1');
    const left: string[] = [];
    const fetched: string[] = [];
    await walkTree(walkOf(source, destination), index.manifest, 'v1', {
      fetched: (d) => void fetched.push(d),
      blobs: async () => {},
      leave: async (_, reference) => void left.push(reference),
    });
    expect(left.slice(0, 2).sort()).toEqual(index.children.map((c) => c.digest).sort());
    expect(left[2]).toBe('v1');
    expect(fetched.sort()).toEqual(index.children.map((c) => c.digest).sort());
  });

  it('skips a child the destination has: neither read nor left', async () => {
    const source = new MemoryRepository('s');
    const destination = new MemoryRepository('d');
    const index = addIndex(source, [amd64, arm64], 'v1');
    destination.manifests.set(index.children[0]!.digest, index.children[0]!.manifest);
    const left: string[] = [];
    await walkTree(walkOf(source, destination), index.manifest, 'v1', {
      blobs: async () => {},
      leave: async (_, reference) => void left.push(reference),
    });
    expect(left).toEqual([index.children[1]!.digest, 'v1']);
    expect(source.count('getManifest')).toBe(1);
  });

  it('hands over an image’s blobs, foreign layers only when asked', async () => {
    const source = new MemoryRepository('s');
    const foreign = { ...source.addBlob(bytes('foreign'), MediaType.dockerForeignLayer), urls: ['https://f.test/l'] };
    const image = addImage(source, { layers: 1, foreign: [foreign] });
    for (const [include, expected] of [
      [false, 2],
      [true, 3],
    ] as const) {
      const handed: string[] = [];
      await walkTree(walkOf(source, new MemoryRepository('d'), include), image.manifest, 'v1', {
        blobs: async (blobs) => void handed.push(...blobs.map((b) => b.digest)),
        leave: async () => {},
      });
      expect(handed).toHaveLength(expected);
      expect(handed.includes(foreign.digest)).toBe(include);
    }
  });
});
