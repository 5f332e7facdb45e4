import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../functions/oci/digest.js';
import { isRetryable, RetryBudgets } from '../../../functions/oci/retry.js';
import { MemoryRepository, type RepositoryFaults } from '../../support/memory-repository.js';
import { FakeClock } from './fake-clock.js';
import { bytes, copierFor, decisions } from './setup.js';

function sides(options: { faults?: RepositoryFaults } = {}) {
  const source = new MemoryRepository('app', { registry: 'src.test', ...options });
  const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
  return { source, destination };
}

const opens = (repo: MemoryRepository): (number | undefined)[] =>
  repo.calls.filter((c) => c.op === 'openBlob').map((c) => c.offset);

describe('a broken body: one decision per failure, Range resume or restart', () => {
  it('resumes with Range from the byte reached after a cut, in the same upload', async () => {
    const { source, destination } = sides({ faults: { cutAfter: [10_000] } });
    const data = bytes(50_000);
    const descriptor = source.addBlob(data);
    const { copier, logger } = copierFor();
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: 50_000 });
    expect(opens(source)).toEqual([0, 10_000]);
    expect(destination.count('writeBlob')).toBe(1);
    expect(destination.blobs.get(descriptor.digest)?.equals(data)).toBe(true);
    expect(decisions(logger.lines)).toEqual(['resume@10000']);
  });

  it('logs each decision as one structured line: blob, decision, offset, attempt', async () => {
    const { source, destination } = sides({ faults: { cutAfter: [1000, 2000] } });
    const descriptor = source.addBlob(bytes(20_000));
    const { copier, logger } = copierFor();
    await copier.copy(source, destination, descriptor);
    const lines = logger.lines.filter((l) => l.fields.decision !== undefined);
    expect(lines.map((l) => l.fields)).toMatchObject([
      { digest: descriptor.digest, decision: 'resume', offset: 1000, attempt: 1, side: 'source' },
      { digest: descriptor.digest, decision: 'resume', offset: 3000, attempt: 2, side: 'source' },
    ]);
    expect(opens(source)).toEqual([0, 1000, 3000]);
  });

  it('restarts from byte 0 when the source ignores Range, and the blob is still verified', async () => {
    const { source, destination } = sides({ faults: { cutAfter: [4000, 9000], ignoresRange: true } });
    const data = bytes(30_000, 2);
    const descriptor = source.addBlob(data);
    const { copier, logger } = copierFor();
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: 30_000 });
    // The first resume asks for Range and learns it is ignored; the next failure restarts from 0.
    expect(opens(source)).toEqual([0, 4000, 0]);
    expect(decisions(logger.lines)).toEqual(['resume@4000', 'restart@0']);
    expect(destination.blobs.get(descriptor.digest)?.equals(data)).toBe(true);
  });

  it('treats an open that fails retryably as a failure to decide on (at the byte reached)', async () => {
    const { source, destination } = sides({ faults: { openFailures: 1 } });
    const descriptor = source.addBlob(bytes(1000));
    const { copier, logger, clock } = copierFor();
    await copier.copy(source, destination, descriptor);
    expect(opens(source)).toEqual([0, 0]);
    expect(decisions(logger.lines)).toEqual(['restart@0']);
    expect(clock.sleeps).toHaveLength(1); // nothing was read yet: backoff before the next try
  });

  it('gives up after `attempts` transfers with the typed error, marked exhausted (no retry above)', async () => {
    const { source, destination } = sides({ faults: { cutAfter: [100, 100, 100, 100] } });
    const descriptor = source.addBlob(bytes(10_000));
    const { copier, logger } = copierFor();
    const error = await copier.copy(source, destination, descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransportError', retryable: true, retriesExhausted: true });
    expect(isRetryable(error)).toBe(false);
    expect(opens(source)).toEqual([0, 100, 200]);
    expect(decisions(logger.lines)).toEqual(['resume@100', 'resume@200', 'fail@300']);
    expect(destination.blobs.has(descriptor.digest)).toBe(false);
  });

  it("stops when the source host's retry budget is spent, whatever attempts remain", async () => {
    const clock = new FakeClock();
    const budgets = new RetryBudgets({ tokens: 1, refillPerSecond: 0 }, clock);
    const { source, destination } = sides({ faults: { cutAfter: [100, 100, 100] } });
    const descriptor = source.addBlob(bytes(10_000));
    const { copier, logger } = copierFor(
      { budgets, retry: { attempts: 10, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } },
      clock,
    );
    const error = await copier.copy(source, destination, descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransportError', retriesExhausted: true });
    expect(opens(source)).toEqual([0, 100]);
    expect(logger.lines.find((l) => l.fields.decision === 'fail')?.fields.why).toBe('budget');
    // The destination's budget is its own.
    expect(budgets.for('dst.test').available).toBe(1);
  });

  it('fails a lying source with DigestMismatchError after its restarts and commits nothing', async () => {
    const { source, destination } = sides();
    const descriptor = source.addBlob(bytes(8000, 3));
    source.blobs.set(descriptor.digest, bytes(8000, 4)); // same size, other bytes
    const { copier, logger } = copierFor();
    const error = await copier.copy(source, destination, descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DigestMismatchError', code: 'DIGEST_MISMATCH', retriesExhausted: true });
    expect(destination.blobs.has(descriptor.digest)).toBe(false);
    expect(destination.count('writeBlob')).toBe(3);
    expect(decisions(logger.lines)).toEqual(['restart@0', 'restart@0', 'fail@0']);
    expect(digestOf(bytes(8000, 4))).not.toBe(descriptor.digest);
  });

  it('restarts with a new upload (no session) when the upload fails, charging the destination', async () => {
    const repo = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test', faults: { writeFailures: 1 } });
    const descriptor = repo.addBlob(bytes(2000));
    const clock = new FakeClock();
    const budgets = new RetryBudgets({ tokens: 10, refillPerSecond: 0 }, clock);
    const { copier, logger } = copierFor({ budgets }, clock);
    expect(await copier.copy(repo, destination, descriptor)).toEqual({ kind: 'copied', bytes: 2000 });
    expect(destination.count('writeBlob')).toBe(2);
    expect(logger.lines.find((l) => l.fields.decision !== undefined)?.fields).toMatchObject({
      decision: 'restart',
      side: 'destination',
      upload: 'new',
    });
    expect(budgets.for('dst.test').available).toBe(9);
    expect(budgets.for('src.test').available).toBe(10);
  });

  it('fails at once on a permanent error (the blob is gone), one open, no decision but the failure', async () => {
    const { source, destination } = sides();
    const descriptor = source.addBlob(bytes(100));
    source.blobs.clear();
    const { copier, logger } = copierFor();
    const error = await copier.copy(source, destination, descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NotFoundError', retriesExhausted: false });
    expect(opens(source)).toEqual([0]);
    expect(decisions(logger.lines)).toEqual(['fail@0']);
  });

  it('fails a truncated body that never completes as a digest mismatch (short count), bounded', async () => {
    const { source, destination } = sides();
    const data = bytes(5000);
    const descriptor = source.addBlob(data);
    // Every open serves only the first 1000 bytes from where it starts, then ends cleanly.
    source.faults.before = (call) => {
      if (call.op === 'openBlob') source.blobs.set(descriptor.digest, data.subarray(0, (call.offset ?? 0) + 1000));
    };
    const { copier } = copierFor();
    const error = await copier.copy(source, destination, descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DigestMismatchError' });
    expect(opens(source)).toEqual([0, 1000, 2000]);
    expect(destination.blobs.has(descriptor.digest)).toBe(false);
  });

  it('restarts a transfer whose source fell below the rate floor (measured on the injected clock)', async () => {
    const { source, destination } = sides();
    const data = bytes(6000);
    const descriptor = source.addBlob(data);
    const clock = new FakeClock();
    // The first open takes a whole window without a byte: the floor fails that attempt.
    let opened = 0;
    source.faults.before = (call) => {
      if (call.op === 'openBlob' && ++opened === 1) clock.advance(1000);
    };
    const { copier, logger } = copierFor({ minRate: { bytesPerSecond: 1000, windowMs: 1000 } }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: 6000 });
    expect(decisions(logger.lines)).toEqual(['restart@0']);
    expect(destination.count('writeBlob')).toBe(2);
    expect(clock.running).toBe(0); // every floor's timer stopped
  });

  it('fails a source that stays below the rate floor after its attempts, naming the rate, exhausted', async () => {
    const { source, destination } = sides();
    const descriptor = source.addBlob(bytes(6000));
    const clock = new FakeClock();
    source.faults.before = (call) => {
      if (call.op === 'openBlob') clock.advance(1000);
    };
    const { copier } = copierFor({ minRate: { bytesPerSecond: 1000, windowMs: 1000 } }, clock);
    const error = await copier.copy(source, destination, descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TransportError', registry: 'src.test', retriesExhausted: true });
    expect(String(error)).toMatch(/below the minimum rate/);
    expect(source.count('openBlob')).toBe(3);
    expect(destination.blobs.has(descriptor.digest)).toBe(false);
  });
});
