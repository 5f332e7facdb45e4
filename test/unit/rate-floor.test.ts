import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDigest } from '../../functions/oci/digest.js';
import { ErrorNames } from '../../functions/oci/errors.js';
import type { Repository } from '../../functions/oci/repository.js';
import { RateFloor } from '../../functions/mirror/rate-floor.js';

const side = (registry: string, name: string): Repository =>
  ({ registry, name, display: `${registry}/${name}` }) as Repository;
const descriptor = {
  mediaType: 'application/octet-stream',
  digest: parseDigest(`sha256:${'a'.repeat(64)}`),
  size: 1 << 20,
};

describe('RateFloor (the minimum rate of one blob attempt)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fails the body below the floor with a retryable TransportError naming both sides, the digest and the rate', () => {
    const floor = new RateFloor(
      { bytesPerSecond: 1000, windowMs: 2000 },
      side('src.example', 'app'),
      side('dst.example', 'mirror/app'),
      descriptor,
    );
    const body = new PassThrough();
    body.on('error', () => undefined);
    floor.start();
    floor.watch(body);
    floor.add(2500);
    vi.advanceTimersByTime(2000); // 2500 B in 2 s: above 1000 B/s
    expect(floor.failure).toBeUndefined();
    floor.add(1000);
    vi.advanceTimersByTime(2000); // 1000 B in 2 s: 500 B/s
    expect(floor.failure).toMatchObject({
      name: ErrorNames.transport,
      retryable: true,
      registry: 'src.example',
      repository: 'app',
    });
    expect(floor.failure?.message).toBe(
      `blob ${descriptor.digest} from src.example/app to dst.example/mirror/app moved 500 B/s over 2 s, below the minimum rate of 1000 B/s`,
    );
    expect(body.destroyed).toBe(true);
    // A body opened after the floor broke (a Range resume) fails at once.
    const next = new PassThrough();
    next.on('error', () => undefined);
    floor.watch(next);
    expect(next.destroyed).toBe(true);
  });

  it('does nothing once stopped (the blob was read to its end), nor when the rate is 0', () => {
    const stopped = new RateFloor({ bytesPerSecond: 1000, windowMs: 1000 }, side('a', 'b'), side('c', 'd'), descriptor);
    stopped.start();
    stopped.stop();
    const off = new RateFloor({ bytesPerSecond: 0, windowMs: 1000 }, side('a', 'b'), side('c', 'd'), descriptor);
    off.start();
    vi.advanceTimersByTime(10_000);
    expect(stopped.failure).toBeUndefined();
    expect(off.failure).toBeUndefined();
  });
});
