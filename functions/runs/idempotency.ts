import { createHash } from 'node:crypto';
import type { IdempotencyClaim } from './store.js';

type Canonical = null | boolean | number | string | Canonical[] | { [key: string]: Canonical };

/**
 * The claim an Idempotency-Key makes: the key, the caller it belongs to, and a hash of the
 * request in canonical form (keys sorted, defaults applied), so a retry matches its first try
 * however its JSON was spelled, and another request under the same key does not.
 *
 * WARNING: inline credentials are left out of the hash (it is stored in the run table, and a
 * password's hash is guessable offline): a retry that changes only a password is a replay.
 */
export function idempotencyClaim(key: string, caller: string, request: unknown): IdempotencyClaim {
  const canonical = JSON.stringify(canonicalize(request));
  return { key, caller, requestHash: `sha256:${createHash('sha256').update(canonical).digest('hex')}` };
}

function canonicalize(value: unknown): Canonical {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string')
    return value;
  if (Array.isArray(value)) return value.map(canonicalize);
  if (typeof value !== 'object') return null;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.some(([k]) => k === 'password')) return { inline: true };
  return Object.fromEntries(
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, canonicalize(v)]),
  );
}
