import { headerValue, type HttpResponse } from './transport.js';

/** What one response said about the registry's pull limit. */
export interface RateLimitReading {
  /** Pulls allowed per window. */
  readonly limit: number;
  /** Pulls left in the window, this response's pull counted. */
  readonly remaining: number;
  /** The window the limit counts over (the `;w=` seconds), when the registry said. */
  readonly windowMs?: number;
  /** Time until the window resets (`RateLimit-Reset` delta seconds), when the registry said. */
  readonly resetMs?: number;
}

/**
 * The pull limit a manifest response carries, or undefined when it carries none. Docker Hub
 * sends `ratelimit-limit: 100;w=21600` and `ratelimit-remaining: 76;w=21600` (no reset; the
 * window is six hours: https://docs.docker.com/docker-hub/usage/pulls/); the IETF draft
 * (draft-ietf-httpapi-ratelimit-headers) sends `RateLimit-Limit: 100` (or a list like
 * `100, 100;w=60`), `RateLimit-Remaining: 50`, `RateLimit-Reset: 30`, and its later revisions one
 * `RateLimit: limit=100, remaining=50, reset=30`. Header names are case-insensitive (undici
 * lowercases them); anything unparsable reads as no limit at all, never as a guess.
 */
export function readRateLimit(headers: HttpResponse['headers']): RateLimitReading | undefined {
  const combined = headerValue(headers, 'ratelimit');
  const limitText = headerValue(headers, 'ratelimit-limit') ?? param(combined, 'limit');
  const remainingText = headerValue(headers, 'ratelimit-remaining') ?? param(combined, 'remaining');
  const resetText = headerValue(headers, 'ratelimit-reset') ?? param(combined, 'reset');
  const limit = leadingCount(limitText);
  const remaining = leadingCount(remainingText);
  if (limit === undefined || remaining === undefined) return undefined;
  const windowSeconds = windowOf(limitText) ?? windowOf(remainingText);
  const resetSeconds = leadingCount(resetText);
  return {
    limit,
    remaining: Math.min(remaining, limit),
    ...(windowSeconds === undefined ? {} : { windowMs: windowSeconds * 1000 }),
    ...(resetSeconds === undefined ? {} : { resetMs: resetSeconds * 1000 }),
  };
}

/** The first item's count: `100;w=21600` → 100, `10, 10;w=1` → 10. */
function leadingCount(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^\s*(\d{1,12})\s*(?:[;,]|$)/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** The first `w=` parameter of any item (a quota policy's window, seconds). */
function windowOf(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /;\s*w\s*=\s*(\d{1,12})/.exec(value);
  const seconds = match ? Number(match[1]) : undefined;
  return seconds !== undefined && seconds > 0 ? seconds : undefined;
}

/** `name=N` in the draft's combined `RateLimit` header. */
function param(value: string | undefined, name: string): string | undefined {
  const match = value === undefined ? null : new RegExp(`(?:^|[,;\\s])${name}\\s*=\\s*(\\d{1,12})`).exec(value);
  return match?.[1];
}
