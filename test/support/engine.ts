import { type CredentialStore, StaticCredentials, anonymous } from '../../functions/oci/auth/credentials.js';
import type { TransportOptions } from '../../functions/oci/transport.js';
import type { BlobCopierOptions } from '../../functions/mirror/blob-copier.js';
import { type CopyEngine, createCopyEngine } from '../../functions/mirror/engine.js';

export type Engine = CopyEngine;

/** The copy engine wired as the CLI wires it, with test-sized retry delays. */
export function createEngine(
  options: {
    sourceCredentials?: CredentialStore;
    destinationCredentials?: CredentialStore;
    transport?: TransportOptions;
    blobs?: BlobCopierOptions;
  } = {},
): Engine {
  return createCopyEngine({
    transport: { retry: { baseDelayMs: 5, maxDelayMs: 50 }, ...options.transport },
    sourceCredentials: options.sourceCredentials ?? anonymous,
    destinationCredentials: options.destinationCredentials ?? anonymous,
    blobs: { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 5_000 }, ...options.blobs },
  });
}

export function basicCreds(host: string, username: string, password: string): CredentialStore {
  return new StaticCredentials(new Map([[host, { kind: 'basic' as const, username, password }]]));
}

export function basicHeader(username: string, password: string): (repository: string) => Promise<string> {
  return () => Promise.resolve(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
}

/** Fetches a push token from the test issuer (for fixtures pushed outside Ferry). */
export function tokenHeader(
  realm: string,
  service: string,
  username: string,
  password: string,
): (repository: string) => Promise<string> {
  return async (repository) => {
    const url = new URL(realm);
    url.searchParams.set('service', service);
    url.searchParams.set('scope', `repository:${repository}:pull,push`);
    const res = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
    });
    const body = (await res.json()) as { token: string };
    return `Bearer ${body.token}`;
  };
}
