import type { Digest } from '../oci/digest.js';
import { parseEcrHost } from '../oci/ecr-host.js';
import { type ManifestDeleter, registryManifestDeleter } from '../oci/manifest-deleter.js';
import type { Repository } from '../oci/repository.js';

/**
 * Deletes manifests by digest: ECR hosts through BatchDeleteImage (the AWS SDK loaded only when
 * one shows up, as runtime.ts loads its other ECR code), every other registry through its DELETE.
 * `ferry prune --delete-yaml-file` and `ferry delete`.
 */
export function deleterOnDemand(): ManifestDeleter {
  let ecr: Promise<ManifestDeleter> | undefined;
  return {
    delete: async (repository: Repository, digest: Digest) => {
      if (repository.registry === undefined || !parseEcrHost(repository.registry))
        return registryManifestDeleter.delete(repository, digest);
      ecr ??= import('../aws/ecr-delete.js').then((m) => new m.EcrManifestDeleter());
      return (await ecr).delete(repository, digest);
    },
  };
}
