import { z } from 'zod';
import { decodeDockerAuth, normaliseAuthKey } from '../oci/auth/credentials.js';
import { CredentialError } from './errors.js';
import { registryHostPattern } from './registry-host.js';

// No control characters anywhere; a Basic user-id cannot hold ':' (RFC 7617 §2).
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const controlChars = /[\u0000-\u001f\u007f]/;
const username = z
  .string()
  .min(1)
  .max(1024)
  .refine((v) => !controlChars.test(v) && !v.includes(':'), 'must have no ":" and no control characters');
const password = z
  .string()
  .min(1)
  .max(8192)
  .refine((v) => !controlChars.test(v), 'must have no control characters');

/** A registry host as a binding names it: `host[:port]` (see {@link registryHostPattern}). */
export const bindingHost = z.string().max(260).regex(registryHostPattern, 'must be a registry host[:port]');

/** `{username, password}` as API callers give them inline (400s name the field). */
export const inlineCredential = z.strictObject({ username, password });

/**
 * The JSON a registry secret holds. Strict: unknown keys are refused, so a secret made for
 * something else (a database's `{username, password, host, port, engine}`) is never used.
 * - `{"username", "password", "registry"?}`
 * - `{"auth", "registry"?}`: Docker config's base64 `user:password`, as teams often store it.
 * `registry` binds the secret to one host (the tag `ferry:registry` may do so instead).
 */
export const registrySecretSchema = z.union([
  z.strictObject({ username, password, registry: bindingHost.optional() }),
  z.strictObject({ auth: z.string().min(1).max(12_000), registry: bindingHost.optional() }).transform((v, ctx) => {
    const pair = decodeDockerAuth(v.auth);
    const parts = pair === undefined ? undefined : z.strictObject({ username, password }).safeParse(pair);
    if (!parts?.success) {
      ctx.addIssue({ code: 'custom', message: '"auth" must be base64 "user:password"' });
      return z.NEVER;
    }
    return { ...parts.data, ...(v.registry === undefined ? {} : { registry: v.registry }) };
  }),
]);

/** Two names of one registry host (case, scheme, `docker.io` aliases aside). */
export function sameRegistry(a: string, b: string): boolean {
  return normaliseAuthKey(a) === normaliseAuthKey(b);
}

/**
 * The one registry a secret may be sent to, from its `registry` field and its `ferry:registry` tag.
 * Both absent, or naming two hosts: refused.
 */
export function boundRegistry(secret: string, field: string | undefined, tag: string | undefined): string {
  if (field !== undefined && tag !== undefined && !sameRegistry(field, tag)) {
    throw new CredentialError(
      'CREDENTIAL_INVALID',
      `secret ${secret} names two registries (field "registry": ${field}, tag ferry:registry: ${tag})`,
    );
  }
  const bound = field ?? tag;
  if (bound === undefined || !bindingHost.safeParse(bound).success) {
    throw new CredentialError(
      'CREDENTIAL_NOT_BOUND',
      `secret ${secret} is bound to no registry: tag it ferry:registry=<host> or add a "registry" field, so that Ferry knows where it may be sent`,
    );
  }
  return bound;
}
