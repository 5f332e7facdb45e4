import { BatchDeleteImageCommand, type BatchDeleteImageCommandOutput, ECRClient } from '@aws-sdk/client-ecr';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Digest } from '../oci/digest.js';
import { parseEcrHost } from '../oci/ecr-host.js';
import { NotFoundError, RegistryError } from '../oci/errors.js';
import { type ManifestDeleter, registryManifestDeleter } from '../oci/manifest-deleter.js';
import type { Repository } from '../oci/repository.js';

/** The one ECR call this adapter makes: what a test double implements. */
export interface EcrBatchDeleteClient {
  send(command: BatchDeleteImageCommand): Promise<BatchDeleteImageCommandOutput>;
}

export interface EcrManifestDeleterOptions {
  /** Builds the ECR client of a region (tests, custom endpoints); default the SDK's (`AWS_ENDPOINT_URL_ECR` honoured). */
  readonly client?: (region: string) => EcrBatchDeleteClient;
  /** AWS credentials for the default clients (an assumed role for another account); default chain when absent. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Where repositories that are not on ECR go (default: the registry API's DELETE). */
  readonly fallback?: ManifestDeleter;
}

/**
 * Deletes manifests on ECR with `BatchDeleteImage` by `imageDigest` (which removes every tag on
 * that image), and elsewhere through `fallback`. ECR reports a refused image as a `failures`
 * entry, not an exception: `ImageNotFound` becomes a NotFoundError, any other code a
 * RegistryError carrying it.
 */
export class EcrManifestDeleter implements ManifestDeleter {
  readonly #client: (region: string) => EcrBatchDeleteClient;
  readonly #fallback: ManifestDeleter;

  constructor(options: EcrManifestDeleterOptions = {}) {
    const clients = new Map<string, EcrBatchDeleteClient>();
    const credentials = options.credentials;
    this.#client =
      options.client ??
      ((region) => {
        let found = clients.get(region);
        if (!found) clients.set(region, (found = new ECRClient({ region, ...(credentials ? { credentials } : {}) })));
        return found;
      });
    this.#fallback = options.fallback ?? registryManifestDeleter;
  }

  async delete(repository: Repository, digest: Digest): Promise<void> {
    const registry = repository.registry;
    const host = registry === undefined ? undefined : parseEcrHost(registry);
    if (registry === undefined || host === undefined) return this.#fallback.delete(repository, digest);
    const details = { registry, repository: repository.name };
    const what = `${repository.display}@${digest}`;
    let res: BatchDeleteImageCommandOutput;
    try {
      res = await this.#client(host.region).send(
        new BatchDeleteImageCommand({
          registryId: host.account,
          repositoryName: repository.name,
          imageIds: [{ imageDigest: digest }],
        }),
      );
    } catch (err) {
      // By name: the SDK's exception classes differ between bundles; the name is the contract.
      if (err instanceof Error && err.name === 'RepositoryNotFoundException')
        throw new NotFoundError(`${what}: ECR has no repository ${repository.name}`, { ...details, cause: err });
      throw err;
    }
    const failure = res.failures?.[0];
    if (failure !== undefined) {
      const code = failure.failureCode ?? 'UNKNOWN';
      const message = `${what}: ECR BatchDeleteImage refused it (${code}${failure.failureReason ? `: ${failure.failureReason}` : ''})`;
      if (code === 'ImageNotFound') throw new NotFoundError(message, { ...details, codes: [code] });
      throw new RegistryError(message, { ...details, codes: [code], retryable: code === 'UpstreamTooManyRequests' });
    }
    if (!res.imageIds?.some((id) => id.imageDigest === digest))
      throw new RegistryError(`${what}: ECR BatchDeleteImage reported neither the image nor a failure`, details);
  }
}
