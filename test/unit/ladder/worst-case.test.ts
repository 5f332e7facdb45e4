import { describe, expect, it } from 'vitest';
import { BlobCopier } from '../../../functions/mirror/blob-copier.js';
import { digestOf } from '../../../functions/oci/digest.js';
import { isRetryable } from '../../../functions/oci/retry.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { FakeClock } from './fake-clock.js';
import { type Answer, cutBody, scriptedTransport } from './scripted-transport.js';
import { bytes } from './setup.js';

const data = bytes(40_000, 11);
const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };

/**
 * The source is a real RegistryRepository over a scripted transport (defaults: 5 sends per
 * request, 3 transfers per blob); the test counts the blob GETs it sends.
 */
async function blobGets(answer: (n: number, range: string | undefined) => Answer, budgetTokens = 1000) {
  const clock = new FakeClock();
  const { transport, sent, repository } = scriptedTransport(clock, (req, n) => answer(n, req.headers?.range), {
    retryBudget: { tokens: budgetTokens, refillPerSecond: 0 },
  });
  const copier = new BlobCopier({
    clock,
    budgets: transport.budgets,
    minRate: { bytesPerSecond: 0, windowMs: 1000 },
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 10_000 },
  });
  const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
  const copy = (): Promise<unknown> =>
    copier.copy(repository('app'), destination, descriptor).then(
      () => undefined,
      (e: unknown) => e,
    );
  const error = await copy();
  return { error, gets: sent.filter((r) => r.method === 'GET').length, sent, destination, copy };
}

describe('the worst case per blob (BlobCopier TSDoc): GETs counted for sources that always fail', () => {
  it('a source that answers every GET with 503 costs 5 GETs: the request layer retries, the ladder does not', async () => {
    const { error, gets, destination } = await blobGets(() => ({ status: 503 }));
    expect(gets).toBe(5);
    expect(error).toMatchObject({ name: 'RegistryError', code: 'HTTP_503', retriesExhausted: true });
    // Exhausted: the copy-image task records the failure instead of throwing it to the state machine's Retry.
    expect(isRetryable(error)).toBe(false);
    expect(destination.count('writeBlob')).toBe(1);
  });

  it('a source that cuts every body costs 3 GETs: one per transfer, resumed with Range', async () => {
    const { error, gets, sent } = await blobGets((n) => ({
      status: n === 1 ? 200 : 206,
      body: cutBody(data.subarray(0, 1000)),
    }));
    expect(gets).toBe(3);
    expect(sent.map((r) => r.headers?.range)).toEqual([undefined, 'bytes=1000-', 'bytes=2000-']);
    expect(error).toMatchObject({ name: 'TransportError', retriesExhausted: true });
    expect(isRetryable(error)).toBe(false);
  });

  it('the worst mix costs 3 × 5 = 15 GETs: each transfer retried to a body that then breaks', async () => {
    // Four 503s, then a body that breaks after 100 bytes — forever.
    const { error, gets } = await blobGets((n) =>
      n % 5 === 0 ? { status: 206, body: cutBody(data.subarray(0, 100)) } : { status: 503 },
    );
    expect(gets).toBe(15);
    expect(error).toMatchObject({ retriesExhausted: true });
    expect(isRetryable(error)).toBe(false);
  });

  it("the host's budget bounds it below that: 2 tokens, 3 GETs; the next blob of the dead host costs 1", async () => {
    const { gets, copy, sent } = await blobGets(() => ({ status: 503 }), 2);
    expect(gets).toBe(3);
    const before = sent.length;
    await copy();
    expect(sent.length - before).toBe(1);
  });

  it('a source that recovers is not failed: 4 × 503 then the blob, verified', async () => {
    const { error, gets, destination } = await blobGets((n) => (n < 5 ? { status: 503 } : { status: 200, body: data }));
    expect(error).toBeUndefined();
    expect(gets).toBe(5);
    expect(destination.blobs.get(descriptor.digest)?.equals(data)).toBe(true);
  });
});
