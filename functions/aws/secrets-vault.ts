import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Credential } from '../oci/auth/credentials.js';
import { boundRegistry, registrySecretSchema } from '../runs/credential-binding.js';
import { CredentialError } from '../runs/errors.js';
import type { CredentialRef } from '../runs/model.js';
import type { BoundCredential, CredentialVault, RunSecretInventory } from '../runs/ports.js';
import { registryTag, runSecretPrefix, runTag } from '../contract.js';

/** The part of the SDK client the vault uses (tests pass a fake). */
export type SecretsClient = Pick<SecretsManagerClient, 'send'>;

/** Errors of Secrets Manager that say the secret is not Ferry's to read; anything else (throttling, 5xx) is rethrown as is. */
const refusals = new Set([
  'AccessDeniedException',
  'ResourceNotFoundException',
  'DecryptionFailure',
  'InvalidRequestException',
  'InvalidParameterException',
]);

// Tag values allow letters, digits, spaces and _ . : / = + - @ only (an IPv6 literal host gets the field alone).
const taggable = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;

/**
 * Credentials in Secrets Manager: callers' secrets by ARN (readable only if the operator opted
 * them in, see the stack's IAM), inline ones moved into run-scoped secrets bound to their registry.
 */
export class SecretsManagerVault implements CredentialVault, RunSecretInventory {
  readonly #client: SecretsClient;
  constructor(client: SecretsClient) {
    this.#client = client;
  }

  async store(
    runId: string,
    name: string,
    registry: string,
    credential: Extract<Credential, { kind: 'basic' }>,
  ): Promise<CredentialRef> {
    const res = await this.#client.send(
      new CreateSecretCommand({
        Name: `${runSecretPrefix}${runId}/${name.replace(/[^A-Za-z0-9/_+=.@-]/g, '-')}`,
        Description: `Ferry run ${runId}: credential for ${registry}`,
        SecretString: JSON.stringify({ username: credential.username, password: credential.password, registry }),
        Tags: [
          { Key: runTag, Value: runId },
          ...(taggable.test(registry) ? [{ Key: registryTag, Value: registry }] : []),
        ],
      }),
    );
    if (!res.ARN) throw new Error('Secrets Manager returned no ARN');
    return { secretArn: res.ARN };
  }

  async resolve(ref: CredentialRef): Promise<BoundCredential> {
    const secret = ref.secretArn;
    const [value, description] = await Promise.all([
      this.#read(secret, () => this.#client.send(new GetSecretValueCommand({ SecretId: secret }))),
      this.#read(secret, () => this.#client.send(new DescribeSecretCommand({ SecretId: secret }))),
    ]);
    let json: unknown;
    try {
      json = JSON.parse(value.SecretString ?? '');
    } catch {
      throw new CredentialError(
        'CREDENTIAL_INVALID',
        `secret ${secret} is not JSON {"username", "password", "registry"}`,
      );
    }
    const parsed = registrySecretSchema.safeParse(json);
    if (!parsed.success) {
      // Name the keys only, never the values.
      const keys = typeof json === 'object' && json !== null ? Object.keys(json).join(', ') : typeof json;
      throw new CredentialError(
        'CREDENTIAL_INVALID',
        `secret ${secret} must hold exactly {"username", "password", "registry"?} or {"auth", "registry"?} (it holds: ${keys})`,
      );
    }
    const tag = description.Tags?.find((t) => t.Key === registryTag)?.Value;
    const registry = boundRegistry(secret, parsed.data.registry, tag);
    return { credential: { kind: 'basic', username: parsed.data.username, password: parsed.data.password }, registry };
  }

  /** Deletes the run's own secrets (names under ferry/runs/<runId>/), at once and for good. */
  async release(runId: string): Promise<void> {
    const prefix = `${runSecretPrefix}${runId}/`;
    const names = (await this.#list(prefix)).map((s) => s.name).filter((n) => n.startsWith(prefix));
    for (const name of names) {
      try {
        await this.#client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      } catch (err) {
        if ((err as { name?: unknown }).name !== 'ResourceNotFoundException') throw err;
      }
    }
  }

  async listRunSecrets(): Promise<{ runId: string; created: Date }[]> {
    return (await this.#list(runSecretPrefix)).flatMap(({ name, created }) => {
      const runId = /^ferry\/runs\/([^/]+)\//.exec(name)?.[1];
      return runId === undefined ? [] : [{ runId, created }];
    });
  }

  /** Secrets whose name starts with `prefix` (ListSecrets' `name` filter matches prefixes). */
  async #list(prefix: string): Promise<{ name: string; created: Date }[]> {
    const found: { name: string; created: Date }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [prefix] }],
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const s of page.SecretList ?? [])
        if (s.Name?.startsWith(prefix)) found.push({ name: s.Name, created: s.CreatedDate ?? new Date(0) });
      nextToken = page.NextToken;
    } while (nextToken);
    return found;
  }

  async #read<T>(secret: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const name = (err as { name?: unknown }).name;
      if (typeof name === 'string' && refusals.has(name)) {
        throw new CredentialError(
          'CREDENTIAL_UNREADABLE',
          `secret ${secret} cannot be read by Ferry (${name}): it reads only its run secrets, secrets tagged ${registryTag} and the ARNs in registrySecretArns`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}
