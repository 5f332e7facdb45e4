import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FerryError, NotFoundError, TransportError } from '../../../functions/oci/errors.js';
import { decideRetry, defaultRetryPolicy, exhausted, isRetryable, RetryBudget } from '../../../functions/oci/retry.js';
import { FakeClock } from './fake-clock.js';
import { scriptedTransport } from './scripted-transport.js';

const manifest = { method: 'GET', path: 'v2/app/manifests/v1', repository: 'app', scopes: [], expect: [200] } as const;

describe('the retry layer: one policy per request, a budget per host', () => {
  it('honours Retry-After in seconds, on the injected clock', async () => {
    const clock = new FakeClock();
    const { client, sent } = scriptedTransport(clock, (_r, n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 },
    );
    const res = await client().request(manifest);
    expect(res.status).toBe(200);
    expect(sent).toHaveLength(2);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('honours Retry-After as an HTTP date, measured from the clock', async () => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const { client } = scriptedTransport(clock, (_r, n) =>
      n === 1 ? { status: 503, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' } } : { status: 200 },
    );
    await client().request(manifest);
    expect(clock.sleeps).toEqual([7000]);
  });

  it('fails at once, marked exhausted, when told to wait longer than maxRetryAfterMs', async () => {
    const clock = new FakeClock();
    const { client, sent } = scriptedTransport(clock, () => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const error = await client()
      .request(manifest)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RegistryError', status: 429, retriesExhausted: true });
    expect(sent).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries a failing status `attempts` times with capped backoff, then gives up with the typed error', async () => {
    const clock = new FakeClock();
    const { client, sent } = scriptedTransport(clock, () => ({ status: 503 }));
    const error = await client()
      .request(manifest)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RegistryError', code: 'HTTP_503', retryable: true, retriesExhausted: true });
    expect(isRetryable(error)).toBe(false);
    expect(sent).toHaveLength(5);
    expect(clock.sleeps).toHaveLength(4);
    clock.sleeps.forEach((ms, i) => {
      const ceiling = Math.min(1000, 100 * 2 ** i);
      expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms).toBeLessThanOrEqual(ceiling);
    });
  });

  it('retries a retryable network error, not a permanent one', async () => {
    const clock = new FakeClock();
    const reset = new TransportError('reset', { registry: 'reg.test' });
    const refused = new TransportError('refused by the guard', { registry: 'reg.test', retryable: false });
    const flaky = scriptedTransport(clock, (_r, n) => (n === 1 ? reset : { status: 200 }));
    expect((await flaky.client().request(manifest)).status).toBe(200);
    expect(flaky.sent).toHaveLength(2);
    const denied = scriptedTransport(clock, () => refused);
    const error = await denied
      .client()
      .request(manifest)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransportError', retryable: false, retriesExhausted: false });
    expect(denied.sent).toHaveLength(1);
  });

  it('does not retry a 404 (not found is an answer)', async () => {
    const clock = new FakeClock();
    const { client, sent } = scriptedTransport(clock, () => ({ status: 404 }));
    const error = await client()
      .request(manifest)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ retriesExhausted: false });
    expect(sent).toHaveLength(1);
  });

  it('sends a streamed body once: its caller decides (the ladder), and the error is not exhausted', async () => {
    const clock = new FakeClock();
    const { client, sent } = scriptedTransport(clock, () => new TransportError('reset', { registry: 'reg.test' }));
    const error = await client()
      .request({ method: 'PUT', path: 'v2/app/blobs/uploads/x', scopes: [], expect: [201], body: Readable.from(['x']) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransportError', retriesExhausted: false });
    expect(isRetryable(error)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it('stops retrying a dead host once its budget is spent; other hosts keep theirs; time refills it', async () => {
    const clock = new FakeClock();
    const { client, sent } = scriptedTransport(clock, () => ({ status: 503 }), {
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      retryBudget: { tokens: 6, refillPerSecond: 1 },
    });
    const dead = client('reg.test');
    const count = async (c: ReturnType<typeof client>): Promise<number> => {
      const before = sent.length;
      await c.request(manifest).catch(() => undefined);
      return sent.length - before;
    };
    expect(await count(dead)).toBe(5); // 4 retries: 2 tokens left (and a little refill from the 4 ms of backoff)
    expect(await count(dead)).toBe(3); // 2 retries: the budget is spent
    expect(await count(dead)).toBe(1); // no retry at all
    expect(await count(client('other.test'))).toBe(5);
    clock.advance(2000);
    expect(await count(dead)).toBe(3);
  });
});

describe('retry decisions and the one "is this retryable?"', () => {
  it('RetryBudget takes tokens, refuses at zero, refills with time up to its size', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ tokens: 2, refillPerSecond: 0.5 }, clock);
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
    clock.advance(2000);
    expect(budget.take()).toBe(true);
    expect(budget.take()).toBe(false);
    clock.advance(60_000);
    expect(budget.available).toBe(2);
  });

  it('decideRetry says why it will not: permanent, attempts, retry-after, budget — and spends no token then', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ tokens: 1, refillPerSecond: 0 }, clock);
    const policy = { ...defaultRetryPolicy, attempts: 3 };
    expect(decideRetry({ retryable: false }, 0, policy, budget)).toEqual({ retry: false, why: 'permanent' });
    expect(decideRetry({ retryable: true }, 2, policy, budget)).toEqual({ retry: false, why: 'attempts' });
    expect(decideRetry({ retryable: true, retryAfterMs: 120_000 }, 0, policy, budget)).toEqual({
      retry: false,
      why: 'retry-after',
    });
    expect(budget.available).toBe(1);
    expect(decideRetry({ retryable: true, retryAfterMs: 1500 }, 0, policy, budget)).toEqual({
      retry: true,
      delayMs: 1500,
    });
    expect(decideRetry({ retryable: true }, 1, policy, budget)).toEqual({ retry: false, why: 'budget' });
  });

  it('isRetryable: the outermost typed error decides; an exhausted one is not; raw errors by code at any depth', () => {
    const transient = new TransportError('reset', { registry: 'r' });
    expect(isRetryable(transient)).toBe(true);
    expect(isRetryable(new NotFoundError('gone', { registry: 'r', status: 404 }))).toBe(false);
    // A permanent typed error over a transient cause stays permanent: it classified its cause.
    const denied = new TransportError('denied', {
      registry: 'r',
      retryable: false,
      cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    });
    expect(isRetryable(denied)).toBe(false);
    expect(isRetryable(new Error('wrapped', { cause: transient }))).toBe(true);
    expect(isRetryable(new Error('outer', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }) }))).toBe(
      true,
    );
    expect(isRetryable(Object.assign(new Error('proxy'), { retryable: true }))).toBe(true);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect(isRetryable('a string')).toBe(false);
    const spent = exhausted(new TransportError('reset', { registry: 'r' }));
    expect(spent).toBeInstanceOf(FerryError);
    expect(isRetryable(spent)).toBe(false);
    expect(isRetryable(new Error('wrapped', { cause: spent }))).toBe(false);
  });
});
