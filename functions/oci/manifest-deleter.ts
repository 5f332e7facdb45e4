import type { Digest } from './digest.js';
import type { Repository } from './repository.js';

/**
 * Deletes one manifest (and so every tag on it) from a repository: the one step prune carries
 * out. Registries do it through the distribution API ({@link registryManifestDeleter}); ECR
 * through its own API (functions/aws/ecr-delete.ts), where the registry API's DELETE is not offered.
 * NotFoundError when the manifest is gone already; DeleteDisabledError where deletes are refused.
 */
export interface ManifestDeleter {
  delete(repository: Repository, digest: Digest): Promise<void>;
}

/** `Repository.deleteManifest`: `DELETE /v2/<name>/manifests/<digest>`, or index.json for a layout. */
export const registryManifestDeleter: ManifestDeleter = {
  delete: (repository, digest) => repository.deleteManifest(digest),
};
