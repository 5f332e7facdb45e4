import { z } from 'zod';
import { AuthenticationError, RegistryError } from '../errors.js';
import { Header } from '../media-types.js';
import { readCapped, type Transport } from '../transport.js';
import { type Challenge, parseChallenge } from './challenge.js';
import { basicAuthorization, type Credential, type CredentialStore } from './credentials.js';

const tokenResponseSchema = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
  issued_at: z.string().optional(),
});

/** A token response is a small JSON document; a longer body is cut off (and so rejected). */
const maxTokenBody = 1 << 20;

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

/** Registry scope strings (`repository:<name>:pull,push`). */
export const pullScope = (repository: string): string => `repository:${repository}:pull`;
export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;
/**
 * For `DELETE /v2/<name>/manifests/<digest>`: distribution v3, Harbor and GitLab check `delete`,
 * Quay checks `push`; token servers grant the subset the caller may have, so ask for both.
 */
export const deleteScope = (repository: string): string => `repository:${repository}:pull,push,delete`;

/**
 * Authorization for one registry host: learns the challenge once (GET /v2/), then sends Basic
 * credentials or Bearer tokens. Tokens are cached per scope set until shortly before expiry;
 * concurrent requests for one scope share one token request.
 */
export class Authenticator {
  readonly #registry: string;
  readonly #transport: Transport;
  readonly #credentials: CredentialStore;
  #challenge: Promise<Challenge | undefined> | undefined;
  #credential: Promise<Credential | undefined> | undefined;
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(registry: string, transport: Transport, credentials: CredentialStore) {
    this.#registry = registry;
    this.#transport = transport;
    this.#credentials = credentials;
  }

  /** The `Authorization` header for requests needing `scopes`, or undefined when anonymous suffices. */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const challenge = await this.#learnChallenge();
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.#basicHeader();
    const token = await this.#token(challenge, scopes, false);
    return token === undefined ? undefined : `Bearer ${token}`;
  }

  /** After a 401: adopt the response's challenge, drop the cached token, and return a fresh header. */
  async refresh(wwwAuthenticate: string | undefined, scopes: readonly string[]): Promise<string | undefined> {
    const challenge = parseChallenge(wwwAuthenticate);
    if (challenge) this.#challenge = Promise.resolve(challenge);
    const current = await this.#learnChallenge();
    if (!current) return undefined;
    if (current.scheme === 'basic') {
      const header = await this.#basicHeader();
      if (header === undefined) throw this.#denied('the registry requires credentials and none were given');
      return header;
    }
    const wanted = challenge?.params.scope ? [...new Set([...scopes, ...challenge.params.scope.split(' ')])] : scopes;
    const token = await this.#token(current, wanted, true);
    return token === undefined ? undefined : `Bearer ${token}`;
  }

  #learnChallenge(): Promise<Challenge | undefined> {
    this.#challenge ??= this.#ping();
    return this.#challenge;
  }

  async #ping(): Promise<Challenge | undefined> {
    const ping = await this.#transport.ping(this.#registry);
    return ping.status === 401 ? parseChallenge(ping.wwwAuthenticate) : undefined;
  }

  #getCredential(): Promise<Credential | undefined> {
    this.#credential ??= this.#credentials.get(this.#registry);
    return this.#credential;
  }

  async #basicHeader(): Promise<string | undefined> {
    const credential = await this.#getCredential();
    if (credential?.kind !== 'basic') return undefined;
    return basicAuthorization(credential.username, credential.password);
  }

  async #token(challenge: Challenge, scopes: readonly string[], fresh: boolean): Promise<string | undefined> {
    const key = [...scopes].sort().join(' ');
    const cached = this.#tokens.get(key);
    if (cached && !fresh) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return token.value;
    }
    const pending = this.#fetchToken(challenge, scopes);
    this.#tokens.set(key, pending);
    pending.catch(() => this.#tokens.delete(key));
    return (await pending).value;
  }

  async #fetchToken(challenge: Challenge, scopes: readonly string[]): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw this.#denied('the Bearer challenge has no realm');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw this.#denied(`the token realm "${realm}" is not a URL`);
    }
    await this.#checkRealm(url);
    const credential = await this.#getCredential();
    const service = challenge.params.service;
    let res;
    if (credential?.kind === 'identityToken') {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.token,
        client_id: 'ferry',
      });
      if (service) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      res = await this.#transport.send({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } else {
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const headers: Record<string, string> = {};
      if (credential?.kind === 'basic') {
        headers[Header.authorization] = basicAuthorization(credential.username, credential.password);
      }
      res = await this.#transport.send({ method: 'GET', url, headers });
    }
    if (res.status !== 200) {
      // Nothing in an error body is used: drop it (and its connection) rather than read it.
      res.body.destroy();
      if (res.status === 401 || res.status === 403) {
        throw this.#denied(
          credential
            ? 'the token server rejected the credentials'
            : 'the registry requires credentials and none were given',
        );
      }
      throw new RegistryError(`token request to ${url.host} failed with HTTP ${res.status}`, {
        registry: this.#registry,
        status: res.status,
      });
    }
    const text = await readCapped(res.body, maxTokenBody);
    let parsed;
    try {
      parsed = tokenResponseSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    const value = parsed?.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!parsed?.success || value === undefined) {
      throw new RegistryError(`token server ${url.host} returned no token`, {
        registry: this.#registry,
        retryable: false,
      });
    }
    const lifetimeMs = Math.max(60, parsed.data.expires_in ?? 60) * 1000;
    const issued = parsed.data.issued_at ? Date.parse(parsed.data.issued_at) : Number.NaN;
    const start = Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now());
    return { value, expiresAt: start + lifetimeMs * 0.9 };
  }

  /**
   * A realm gets the credentials (Basic, or a refresh token) and hands out the registry's tokens:
   * a registry reached over https may not send them over plain http (nor anywhere but http(s)).
   * Where the realm's address may be reached is the transport's SSRF guard's call, as for any request.
   */
  async #checkRealm(realm: URL): Promise<void> {
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:')
      throw this.#denied(`the token realm ${realm.host || realm.href} is not an http(s) URL`);
    const base = await this.#transport.baseUrl(this.#registry);
    if (base.protocol === 'https:' && realm.protocol !== 'https:') {
      throw this.#denied(
        `the registry is reached over https but its token realm http://${realm.host}${realm.pathname} is plain http; credentials and tokens never go in cleartext`,
      );
    }
  }

  #denied(why: string): AuthenticationError {
    return new AuthenticationError(`authentication to ${this.#registry} failed: ${why}`, {
      registry: this.#registry,
      status: 401,
      retryable: false,
    });
  }
}
