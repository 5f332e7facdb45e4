import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type Credential, type CredentialStore, decodeDockerAuth } from '../oci/auth/credentials.js';
import { parseEcrHost } from '../oci/ecr-host.js';

/** Tokens live 12 hours; Ferry renews them this long before they expire. */
const renewBeforeMs = 15 * 60 * 1000;

export interface EcrCredentialsOptions {
  /** AWS credentials (default chain when absent; an assumed role for another account). */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Builds the ECR client of a region (tests, custom endpoints); `AWS_ENDPOINT_URL_ECR` is honoured either way. */
  readonly client?: (region: string) => ECRClient;
  readonly now?: () => number;
}

/**
 * Registry credentials for ECR hosts: GetAuthorizationToken (Basic, user `AWS`), cached per
 * account and region until shortly before the token's 12-hour expiry. Other hosts: undefined.
 */
export class EcrCredentials implements CredentialStore {
  readonly #options: EcrCredentialsOptions;
  readonly #clients = new Map<string, ECRClient>();
  readonly #tokens = new Map<string, Promise<{ credential: Credential; expiresAt: number }>>();
  readonly #now: () => number;

  constructor(options: EcrCredentialsOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async get(registry: string): Promise<Credential | undefined> {
    const host = parseEcrHost(registry);
    if (!host) return undefined;
    const key = `${host.account}/${host.region}`;
    const cached = this.#tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt - renewBeforeMs > this.#now()) return token.credential;
    }
    const fetching = this.#fetch(host.account, host.region);
    this.#tokens.set(key, fetching);
    fetching.catch(() => this.#tokens.delete(key));
    return (await fetching).credential;
  }

  async #fetch(account: string, region: string): Promise<{ credential: Credential; expiresAt: number }> {
    const res = await this.#client(region).send(new GetAuthorizationTokenCommand({ registryIds: [account] }));
    const data = res.authorizationData?.[0];
    if (!data?.authorizationToken) throw new Error(`ECR returned no authorization token for ${account} in ${region}`);
    const pair = decodeDockerAuth(data.authorizationToken);
    if (!pair) throw new Error(`ECR returned an authorization token that is not base64 "user:password" for ${account}`);
    return {
      credential: { kind: 'basic', ...pair },
      expiresAt: data.expiresAt?.getTime() ?? this.#now() + 12 * 3600 * 1000,
    };
  }

  #client(region: string): ECRClient {
    let client = this.#clients.get(region);
    if (!client) {
      client =
        this.#options.client?.(region) ??
        new ECRClient({ region, ...(this.#options.credentials ? { credentials: this.#options.credentials } : {}) });
      this.#clients.set(region, client);
    }
    return client;
  }
}
