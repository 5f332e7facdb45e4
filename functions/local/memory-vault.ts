import { randomUUID } from 'node:crypto';
import type { Credential } from '../oci/auth/credentials.js';
import { CredentialError } from '../runs/errors.js';
import type { CredentialRef } from '../runs/model.js';
import type { BoundCredential, CredentialVault } from '../runs/ports.js';

/**
 * `ferry serve`'s vault: inline credentials stay in process memory under an opaque reference,
 * bound to the registry they were given for, until their run finishes; `secretArn` references
 * are not resolvable locally (there is no Secrets Manager).
 */
export class MemoryVault implements CredentialVault {
  readonly #secrets = new Map<string, { runId: string } & BoundCredential>();

  store(
    runId: string,
    _name: string,
    registry: string,
    credential: Extract<Credential, { kind: 'basic' }>,
  ): Promise<CredentialRef> {
    const ref = `arn:aws:secretsmanager:local:000000000000:secret:ferry/runs/memory-${randomUUID()}`;
    this.#secrets.set(ref, { runId, registry, credential });
    return Promise.resolve({ secretArn: ref });
  }

  resolve(ref: CredentialRef): Promise<BoundCredential> {
    const found = this.#secrets.get(ref.secretArn);
    if (!found) {
      return Promise.reject(
        new CredentialError(
          'CREDENTIAL_UNREADABLE',
          `secret ${ref.secretArn} is not available to ferry serve (pass {"username","password"} inline; a finished run's credentials are forgotten)`,
        ),
      );
    }
    return Promise.resolve({ credential: found.credential, registry: found.registry });
  }

  release(runId: string): Promise<void> {
    for (const [ref, secret] of this.#secrets) if (secret.runId === runId) this.#secrets.delete(ref);
    return Promise.resolve();
  }

  /** How many credentials are held (tests: a finished run leaves none). */
  get size(): number {
    return this.#secrets.size;
  }
}
