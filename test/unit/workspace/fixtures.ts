import type { WorkspaceEntry } from '../../../functions/mirror/workspace/entry.js';

// Values shaped after oc-mirror's own test data (internal/pkg/clusterresources/clusterresources_test.go),
// with a destination host that the reference grammar reads as a registry.

export const d1 = 'sha256:b93deceb59a58588d5b16429fc47f98920f84740a1f2ed6454e33275f0701b59';
export const d2 = 'sha256:a5d4f4467250074216eb1ba1c36e06a3ab797d81c431427fc2aca97ecaf4e9d8';
export const d3 = 'sha256:d3016b1507515fc7712f9c47fd9082baf9ccb070aaab58ed0ef6e5abdedde8ba';
export const target = 'mirror.example.com:5000/mynamespace';

/** An entry mirrored by tag: `source` with `:tag`, destination under {@link target}. */
export function byTag(repository: string, tag: string, extra: Partial<WorkspaceEntry> = {}): WorkspaceEntry {
  const path = repository.slice(repository.indexOf('/') + 1);
  return { source: `${repository}:${tag}`, destination: `${target}/${path}:${tag}`, byDigest: false, ...extra };
}

/** An entry mirrored by digest. */
export function byDigest(repository: string, digest: string, extra: Partial<WorkspaceEntry> = {}): WorkspaceEntry {
  const path = repository.slice(repository.indexOf('/') + 1);
  return {
    source: `${repository}@${digest}`,
    destination: `${target}/${path}@${digest}`,
    byDigest: true,
    digest,
    ...extra,
  };
}
