import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { Credential } from '../oci/auth/credentials.js';
import type { CredentialRef } from '../runs/model.js';
import type { CredentialVault } from '../runs/ports.js';

const secretValue = z.union([
  z.object({ username: z.string(), password: z.string() }),
  // Docker config style, as many teams already store registry credentials.
  z.object({ auth: z.string() }).transform((v) => {
    const decoded = Buffer.from(v.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }),
]);

/** Prefix of the run-scoped secrets Ferry creates for inline credentials (IAM is scoped to it). */
export const runSecretPrefix = 'ferry/runs/';

/** Credentials in Secrets Manager: callers' secrets by ARN, inline ones moved into run-scoped secrets. */
export class SecretsManagerVault implements CredentialVault {
  readonly #client: SecretsManagerClient;
  constructor(client: SecretsManagerClient) {
    this.#client = client;
  }

  async store(runId: string, name: string, credential: Extract<Credential, { kind: 'basic' }>): Promise<CredentialRef> {
    const res = await this.#client.send(new CreateSecretCommand({
      Name: `${runSecretPrefix}${runId}/${name.replace(/[^A-Za-z0-9/_+=.@-]/g, '-')}`,
      Description: `Ferry run ${runId}: credential for ${name}`,
      SecretString: JSON.stringify({ username: credential.username, password: credential.password }),
      Tags: [{ Key: 'ferry:run', Value: runId }],
    }));
    if (!res.ARN) throw new Error('Secrets Manager returned no ARN');
    return { secretArn: res.ARN };
  }

  async resolve(ref: CredentialRef): Promise<Credential> {
    const res = await this.#client.send(new GetSecretValueCommand({ SecretId: ref.secretArn }));
    let json: unknown;
    try {
      json = JSON.parse(res.SecretString ?? '');
    } catch {
      throw new Error(`secret ${ref.secretArn} is not JSON {"username", "password"}`);
    }
    const parsed = secretValue.safeParse(json);
    if (!parsed.success) throw new Error(`secret ${ref.secretArn} must hold {"username", "password"} or {"auth"}`);
    return { kind: 'basic', ...parsed.data };
  }
}
