import { createHash } from 'node:crypto';
import type { Credential } from './auth/credentials.js';
import type { RateLimitReading } from './rate-limit.js';

/** Whose budget a pull spends: an upstream registry and the identity pulling from it. */
export interface PullKey {
  readonly registry: string;
  /** {@link pullIdentity}: a hash of the user name, or `anonymous` — never a secret. */
  readonly identity: string;
}

/** One manifest GET about to be sent. */
export interface PullRequest extends PullKey {
  readonly repository: string;
  readonly reference: string;
}

/**
 * Spends an upstream's pull budget around each manifest GET, the one request Docker Hub counts
 * as a pull (HEADs are free, which is why Ferry HEADs first). `RegistryClient` calls `acquire`
 * before every manifest GET it sends — retries and redirects included, since each is a GET the
 * registry may count — and `settle` after it, whatever became of it.
 */
export interface PullGate {
  /**
   * Resolves when the pull may be spent, after waiting while the budget is low; throws a
   * PullBudgetError when the wait would be longer than allowed, or the signal's reason.
   */
  acquire(pull: PullRequest, signal?: AbortSignal): Promise<void>;
  /** After the GET: the response's status and rate-limit reading; `status` undefined when no response came. */
  settle(pull: PullRequest, outcome: { readonly status?: number; readonly reading?: RateLimitReading }): Promise<void>;
}

/**
 * The identity a budget is kept for: Docker Hub counts pulls per account, or per address for
 * anonymous pulls. A hash, so that the budget's store (the run table) never holds a user name,
 * and never anything from which a password or token could be recovered.
 */
export function pullIdentity(credential: Credential | undefined): string {
  if (credential === undefined) return 'anonymous';
  const subject = credential.kind === 'basic' ? `user:${credential.username}` : `token:${credential.token}`;
  return createHash('sha256').update(subject).digest('hex').slice(0, 16);
}

const manifestPath = /^v2\/(.+)\/manifests\/([^/]+)$/;

/** The repository and reference of a registry-relative manifest path (`v2/<repo>/manifests/<ref>`), else undefined. */
export function manifestTarget(path: string | URL): { repository: string; reference: string } | undefined {
  if (typeof path !== 'string') return undefined;
  const match = manifestPath.exec(path);
  return match ? { repository: match[1]!, reference: decodeURIComponent(match[2]!) } : undefined;
}
