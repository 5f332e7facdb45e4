import type { TagLister } from '../../../functions/mirror/image-set/expand.js';
import type { ImageSet } from '../../../functions/mirror/image-set/document.js';
import type { Digest } from '../../../functions/oci/digest.js';
import type { ImageReference } from '../../../functions/oci/reference.js';
import { type MemoryRepository, memoryRegistry } from '../../support/memory-repository.js';
import { addImage } from '../engine/images.js';

/** The mirror registry of the prune tests. */
export const mirrorHost = 'mirror.test';

/** A scripted source listing with a call log; unknown repositories fail as a registry would. */
export function fakeLister(tags: Record<string, readonly string[]>): TagLister & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    listTags(repository) {
      const key = `${repository.registry}/${repository.repository}`;
      calls.push(key);
      const listed = tags[key];
      return listed === undefined ? Promise.reject(new Error(`NAME_UNKNOWN ${key}`)) : Promise.resolve([...listed]);
    },
  };
}

/** The destination registry: repositories by path, and which ones the code under test asked for. */
export interface FakeMirror {
  readonly repos: Map<string, MemoryRepository>;
  /** `registry/path` of every repository handed out, in order. */
  readonly requested: string[];
  /** The port: a repository handle (created empty if new). */
  readonly port: (ref: ImageReference) => MemoryRepository;
  /** Test setup: a repository by path, without counting it as requested. */
  repo(path: string): MemoryRepository;
  /** Test setup: pushes a distinct image under each tag; returns tag → digest. */
  push(path: string, tags: readonly string[]): Map<string, Digest>;
}

export function fakeMirror(): FakeMirror {
  const make = memoryRegistry(mirrorHost);
  const repos = new Map<string, MemoryRepository>();
  const requested: string[] = [];
  const repo = (path: string): MemoryRepository => {
    let found = repos.get(path);
    if (found === undefined) repos.set(path, (found = make(path)));
    return found;
  };
  return {
    repos,
    requested,
    port: (ref) => {
      if (ref.registry !== mirrorHost) throw new Error(`unexpected registry ${ref.registry}`);
      requested.push(`${ref.registry}/${ref.repository}`);
      return repo(ref.repository);
    },
    repo,
    push: (path, tags) => {
      const target = repo(path);
      return new Map(tags.map((tag) => [tag, addImage(target, { tag, layers: 1 }).digest]));
    },
  };
}

export const imageSet = (partial: Partial<ImageSet>): ImageSet => ({
  additionalImages: [],
  blockedImages: [],
  repositories: [],
  ...partial,
});

/** `1.1.0` … `1.<n>.0`. */
export const versions = (n: number): string[] => Array.from({ length: n }, (_, i) => `1.${i + 1}.0`);

/** A repository's tags, sorted (what `tags/list` would say). */
export const tagsOf = (repo: MemoryRepository): string[] => [...repo.tags.keys()].sort();
