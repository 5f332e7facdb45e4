import { causes, FerryError } from './errors.js';

/**
 * The one retry policy of Ferry, applied per request in one layer (`RegistryClient`), per host
 * (a {@link RetryBudget} shared by every request to it), as go-containerregistry's retry
 * transport and regclient's per-host backoff do. The blob ladder takes no loops of its own on
 * top: on a broken body it decides once (Range resume or restart), drawing on the same budget.
 *
 * Worst case per request: `attempts` sends (default 5). Worst case per blob: see `BlobCopier`.
 * Errors this layer gave up on are marked {@link FerryError.retriesExhausted}; {@link isRetryable}
 * is then false, so neither the ladder nor the state machine starts a second round.
 */
export interface RetryPolicy {
  /** Attempts in all, including the first. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** The longest `Retry-After` Ferry will wait; longer ones fail the request. */
  readonly maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** Capped exponential backoff with full jitter (half fixed, half random). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Time as retries, leases and polls see it: injected, so tests step it instead of waiting. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until the returned function is called; never keeps the process alive. */
  every(ms: number, fn: () => void): () => void;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Real time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** A host's retry budget: a token bucket. Each retry takes a token; tokens come back with time. */
export interface RetryBudgetOptions {
  /** Retries a host may take at once (the bucket's size; default 10). */
  readonly tokens: number;
  /** Tokens returned per second (default 1): a host that keeps failing is retried about once a second. */
  readonly refillPerSecond: number;
}

export const defaultRetryBudget: RetryBudgetOptions = { tokens: 10, refillPerSecond: 1 };

/**
 * One host's budget. A dead host spends it within a few requests; after that its requests fail
 * at their first error instead of each waiting out its own backoff.
 */
export class RetryBudget {
  readonly #options: RetryBudgetOptions;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(options: RetryBudgetOptions = defaultRetryBudget, clock: Clock = systemClock) {
    this.#options = options;
    this.#clock = clock;
    this.#tokens = options.tokens;
    this.#at = clock.now();
  }

  /** Tokens left now. */
  get available(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(
      this.#options.tokens,
      this.#tokens + ((now - this.#at) / 1000) * this.#options.refillPerSecond,
    );
    this.#at = now;
    return this.#tokens;
  }

  /** Takes a token for one retry; false (and nothing taken) when the host has none left. */
  take(): boolean {
    if (this.available < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** The budgets of every host one transport talks to. */
export class RetryBudgets {
  readonly #options: RetryBudgetOptions;
  readonly clock: Clock;
  readonly #hosts = new Map<string, RetryBudget>();

  constructor(options: Partial<RetryBudgetOptions> = {}, clock: Clock = systemClock) {
    this.#options = { ...defaultRetryBudget, ...options };
    this.clock = clock;
  }

  /** The budget of `host` (`registry[:port]`, or a layout's display name). */
  for(host: string): RetryBudget {
    let budget = this.#hosts.get(host);
    if (!budget) this.#hosts.set(host, (budget = new RetryBudget(this.#options, this.clock)));
    return budget;
  }
}

/** Why a failure is not retried: not curable, attempts spent, budget spent, or told to wait too long. */
export type RetryRefusal = 'permanent' | 'attempts' | 'budget' | 'retry-after';

/** The decision on one failed attempt. */
export type RetryDecision =
  { readonly retry: true; readonly delayMs: number } | { readonly retry: false; readonly why: RetryRefusal };

/**
 * Decides once on failed attempt number `attempt` (0 = the first): retry after a delay — the
 * server's `Retry-After` when it sent one, else backoff — or give up. A retry takes a token of
 * the host's budget; the check on `attempts` comes first, so a last attempt spends nothing.
 */
export function decideRetry(
  failure: { readonly retryable: boolean; readonly retryAfterMs?: number | undefined },
  attempt: number,
  policy: RetryPolicy,
  budget: RetryBudget,
  random: () => number = Math.random,
): RetryDecision {
  if (!failure.retryable) return { retry: false, why: 'permanent' };
  if (attempt + 1 >= policy.attempts) return { retry: false, why: 'attempts' };
  if (failure.retryAfterMs !== undefined && failure.retryAfterMs > policy.maxRetryAfterMs)
    return { retry: false, why: 'retry-after' };
  if (!budget.take()) return { retry: false, why: 'budget' };
  return { retry: true, delayMs: failure.retryAfterMs ?? backoffDelay(policy, attempt, random) };
}

const transientCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Whether a retry may cure `err` — the one answer every layer uses. The outermost
 * {@link FerryError} in the cause chain decides (it classified what is below it), and says no
 * once a retry layer gave up on it; an untyped error is retryable when it, or a cause below
 * it, carries a transient network code (Node's and undici's) or `retryable: true`.
 */
export function isRetryable(err: unknown): boolean {
  for (const cause of causes(err)) {
    if (cause instanceof FerryError) return cause.retryable && !cause.retriesExhausted;
    if (
      cause instanceof Error &&
      (transientCodes.has(String((cause as { code?: unknown }).code)) ||
        (cause as { retryable?: unknown }).retryable === true)
    )
      return true;
  }
  return false;
}

/** Marks an error a retry layer gave up on (see {@link isRetryable}) and returns it. */
export function exhausted<E>(err: E): E {
  if (err instanceof FerryError) err.retriesExhausted = true;
  return err;
}
