import {
  CreateRepositoryCommand,
  ECRClient,
  PutLifecyclePolicyCommand,
  RepositoryAlreadyExistsException,
} from '@aws-sdk/client-ecr';
import type { EcrRepositorySettings } from '../contract.js';
import { parseEcrHost } from '../oci/ecr-host.js';

// The settings' one definition is shared with the stack, which validates them at synth time.
export type { EcrRepositorySettings } from '../contract.js';

/** Makes sure a destination repository exists before anything is pushed to it. */
export interface RepositoryPreparer {
  prepare(registry: string, repository: string): Promise<void>;
}

/**
 * Creates missing ECR repositories with the configured settings. Idempotent and race-safe:
 * `RepositoryAlreadyExistsException` (another copy created it first) is success; each
 * repository is prepared once per process.
 */
export class EcrRepositories implements RepositoryPreparer {
  readonly #settings: EcrRepositorySettings;
  readonly #client: (region: string) => ECRClient;
  readonly #done = new Map<string, Promise<void>>();

  /** `client` builds the ECR client of a region; by default the SDK's (default credential chain, `AWS_ENDPOINT_URL_ECR`). */
  constructor(settings: EcrRepositorySettings = {}, client?: (region: string) => ECRClient) {
    const clients = new Map<string, ECRClient>();
    this.#client =
      client ??
      ((region) => {
        let found = clients.get(region);
        if (!found) clients.set(region, (found = new ECRClient({ region })));
        return found;
      });
    this.#settings = settings;
  }

  prepare(registry: string, repository: string): Promise<void> {
    const host = parseEcrHost(registry);
    if (!host || this.#settings.useCreationTemplate) return Promise.resolve();
    const key = `${registry}/${repository}`;
    let pending = this.#done.get(key);
    if (!pending) {
      pending = this.#create(host.account, host.region, repository);
      this.#done.set(key, pending);
      pending.catch(() => this.#done.delete(key));
    }
    return pending;
  }

  async #create(account: string, region: string, repository: string): Promise<void> {
    const client = this.#client(region);
    const s = this.#settings;
    try {
      await client.send(
        new CreateRepositoryCommand({
          registryId: account,
          repositoryName: repository,
          imageTagMutability: s.tagMutability ?? 'MUTABLE',
          imageScanningConfiguration: { scanOnPush: s.scanOnPush ?? false },
          encryptionConfiguration: s.kmsKey
            ? { encryptionType: 'KMS', kmsKey: s.kmsKey }
            : { encryptionType: 'AES256' },
          tags: Object.entries(s.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    } catch (err) {
      if (err instanceof RepositoryAlreadyExistsException) return;
      throw err;
    }
    if (s.lifecyclePolicy) {
      await client.send(
        new PutLifecyclePolicyCommand({
          registryId: account,
          repositoryName: repository,
          lifecyclePolicyText: s.lifecyclePolicy,
        }),
      );
    }
  }
}
