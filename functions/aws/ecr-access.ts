import { ECRClient } from '@aws-sdk/client-ecr';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { CredentialStore } from '../oci/auth/credentials.js';
import type { Repository } from '../oci/repository.js';
import type { ManifestDeleter } from '../oci/manifest-deleter.js';
import { EcrCredentials } from './ecr-credentials.js';
import { EcrManifestDeleter } from './ecr-delete.js';
import { EcrRepositories, type EcrRepositorySettings } from './ecr-repositories.js';

/**
 * Temporary credentials of an IAM role (another account's ECR), from STS AssumeRole
 * (`AWS_ENDPOINT_URL_STS` is honoured), renewed five minutes before they expire.
 */
export function assumeRole(roleArn: string, sts: STSClient = new STSClient({})): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const cached = current ? await current.catch(() => undefined) : undefined;
    if (cached && (cached.expiration?.getTime() ?? 0) - 5 * 60_000 > Date.now()) return cached;
    current = sts
      .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'ferry', DurationSeconds: 3600 }))
      .then((res) => {
        const c = res.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`STS returned no credentials for ${roleArn}`);
        return {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
          ...(c.Expiration ? { expiration: c.Expiration } : {}),
        };
      });
    return current;
  };
}

/** ECR access as this function's own role, or as an assumed role: registry credentials and repository creation. */
export interface EcrAccess {
  readonly credentials: CredentialStore;
  readonly prepare: (destination: Repository) => Promise<void>;
  /** Deletes manifests (prune): BatchDeleteImage on ECR hosts, the registry API elsewhere. */
  readonly deleter: ManifestDeleter;
}

/** Builds (once per role) the ECR access the copy engine uses. */
export class EcrAccessFactory {
  readonly #settings: EcrRepositorySettings;
  readonly #byRole = new Map<string, EcrAccess>();

  constructor(settings: EcrRepositorySettings = {}) {
    this.#settings = settings;
  }

  forRole(roleArn?: string): EcrAccess {
    const key = roleArn ?? '';
    let access = this.#byRole.get(key);
    if (!access) {
      const provider = roleArn === undefined ? undefined : assumeRole(roleArn);
      const clients = new Map<string, ECRClient>();
      const client = (region: string): ECRClient => {
        let found = clients.get(region);
        if (!found)
          clients.set(region, (found = new ECRClient({ region, ...(provider ? { credentials: provider } : {}) })));
        return found;
      };
      const repositories = new EcrRepositories(this.#settings, client);
      access = {
        credentials: new EcrCredentials({ client }),
        prepare: (destination) =>
          destination.registry === undefined
            ? Promise.resolve()
            : repositories.prepare(destination.registry, destination.name),
        deleter: new EcrManifestDeleter({ client }),
      };
      this.#byRole.set(key, access);
    }
    return access;
  }
}
