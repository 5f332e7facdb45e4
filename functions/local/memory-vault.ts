import { randomUUID } from 'node:crypto';
import type { Credential } from '../oci/auth/credentials.js';
import type { CredentialRef } from '../runs/model.js';
import type { CredentialVault } from '../runs/ports.js';

/**
 * `ferry serve`'s vault: inline credentials stay in process memory under an opaque reference;
 * `secretArn` references are not resolvable locally (there is no Secrets Manager).
 */
export class MemoryVault implements CredentialVault {
  readonly #secrets = new Map<string, Credential>();

  store(_runId: string, _name: string, credential: Extract<Credential, { kind: 'basic' }>): Promise<CredentialRef> {
    const ref = `arn:aws:secretsmanager:local:000000000000:secret:ferry/runs/memory-${randomUUID()}`;
    this.#secrets.set(ref, credential);
    return Promise.resolve({ secretArn: ref });
  }

  resolve(ref: CredentialRef): Promise<Credential> {
    const found = this.#secrets.get(ref.secretArn);
    if (!found) return Promise.reject(new Error(`secret ${ref.secretArn} is not available to ferry serve (pass {"username","password"} inline)`));
    return Promise.resolve(found);
  }
}
