import { describe, expect, it } from 'vitest';
import { MemoryBlobIndex } from '../../../functions/mirror/blob-index.js';
import { MemoryLeases } from '../../support/memory-leases.js';
import { memoryRegistry, MemoryRepository } from '../../support/memory-repository.js';
import { FakeClock } from './fake-clock.js';
import { bytes, copierFor } from './setup.js';

const size = 2 << 20;
const other = 'team/base other-process';

/** A source, a destination registry with the repository copied into and a sibling, shared index and leases. */
function world(seed = 1) {
  const clock = new FakeClock();
  const source = new MemoryRepository('app', { registry: 'src.test' });
  const repo = memoryRegistry('dst.test');
  const destination = repo('mirror/app');
  const sibling = repo('team/base');
  const data = bytes(size, seed);
  const descriptor = source.addBlob(data);
  const index = new MemoryBlobIndex();
  const leases = new MemoryLeases(() => clock.now());
  /** Another process finishes its transfer into the sibling repository. */
  const otherFinishes = async (): Promise<void> => {
    sibling.blobs.set(descriptor.digest, data);
    await index.record('dst.test', descriptor.digest, 'team/base');
  };
  return { clock, source, repo, destination, sibling, data, descriptor, index, leases, otherFinishes };
}

const ours = (holder: string): boolean => holder !== other;

describe('one transfer per blob: in-flight dedupe and shared leases', () => {
  it('streams a blob once when two copies into two repositories of one registry run at once; the other mounts', async () => {
    const { source, repo, descriptor } = world();
    const one = repo('mirror/one');
    const two = repo('mirror/two');
    const { copier } = copierFor();
    const [a, b] = await Promise.all([copier.copy(source, one, descriptor), copier.copy(source, two, descriptor)]);
    expect(a).toEqual({ kind: 'copied', bytes: size });
    expect(b).toEqual({ kind: 'mounted', bytes: 0, from: 'mirror/one' });
    expect(source.count('openBlob')).toBe(1);
  });

  it('streams a blob once when two copies into the same repository run at once; the other skips', async () => {
    const { source, destination, descriptor } = world();
    const { copier } = copierFor();
    const outcomes = await Promise.all([
      copier.copy(source, destination, descriptor),
      copier.copy(source, destination, descriptor),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['copied', 'skipped']);
    expect(destination.count('writeBlob')).toBe(1);
  });

  it('claims the transfer, renews it while streaming (heartbeat), and releases it on success', async () => {
    const { clock, source, destination, descriptor, index, leases } = world();
    // Streaming takes 2.5 leases' thirds of time: the heartbeat must renew twice meanwhile.
    destination.faults.before = (call) => {
      if (call.op === 'writeBlob') clock.advance(2500);
    };
    const { copier } = copierFor({ shared: { index, leases }, leaseMs: 3000 }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: size });
    const claims = leases.claimsBy(ours);
    expect(claims).toHaveLength(3); // the claim, then renewals at 1 s and 2 s
    expect(new Set(claims.map((c) => c.holder)).size).toBe(1);
    expect(leases.calls.at(-1)).toMatchObject({ op: 'release', holder: claims[0]!.holder });
    expect(leases.holderOf('dst.test', descriptor.digest)).toBeUndefined();
    expect(clock.running).toBe(0); // the heartbeat stopped
  });

  it('releases the claim when the transfer fails', async () => {
    const { source, destination, descriptor, index, leases, clock } = world();
    source.blobs.clear();
    const { copier } = copierFor({ shared: { index, leases } }, clock);
    await expect(copier.copy(source, destination, descriptor)).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(leases.calls.map((c) => c.op)).toEqual(['claim', 'release']);
    expect(leases.holderOf('dst.test', descriptor.digest)).toBeUndefined();
    expect(clock.running).toBe(0);
  });

  it('waits while another process holds the lease, then mounts what it copied (no GET at the source)', async () => {
    const { clock, source, destination, descriptor, index, leases, otherFinishes } = world();
    leases.hold('dst.test', descriptor.digest, other, clock.now() + 60_000);
    let polls = 0;
    clock.onSleep = async () => {
      if (++polls === 3) await otherFinishes();
    };
    const { copier } = copierFor({ shared: { index, leases }, pollMs: 100 }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({
      kind: 'mounted',
      bytes: 0,
      from: 'team/base',
    });
    expect(source.count('openBlob')).toBe(0);
    expect(clock.sleeps).toEqual([100, 150, 225]); // the poll interval grows by half
    expect(leases.holderOf('dst.test', descriptor.digest)).toBe(other);
  });

  it('skips when the holder was copying into this very repository (another tag of it)', async () => {
    const { clock, source, destination, descriptor, data, index, leases } = world();
    leases.hold('dst.test', descriptor.digest, other, clock.now() + 60_000);
    clock.onSleep = async () => {
      destination.blobs.set(descriptor.digest, data);
      await index.record('dst.test', descriptor.digest, 'mirror/app');
    };
    const { copier } = copierFor({ shared: { index, leases } }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'skipped', bytes: 0 });
    expect(destination.count('writeBlob')).toBe(0);
  });

  it("takes the claim over when the holder's lease lapses, and streams the blob itself", async () => {
    const { clock, source, destination, descriptor, index, leases } = world();
    leases.hold('dst.test', descriptor.digest, other, clock.now() + 1000);
    const { copier } = copierFor({ shared: { index, leases }, pollMs: 400 }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: size });
    const claims = leases.claimsBy(ours);
    expect(claims).toHaveLength(2); // refused, then granted once the lease lapsed
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1000);
    expect(source.count('openBlob')).toBe(1);
    expect(leases.calls.at(-1)).toMatchObject({ op: 'release', holder: claims[1]!.holder });
  });

  it('skips after a takeover when the lapsed holder had finished after all', async () => {
    const { clock, source, destination, descriptor, data, index, leases } = world();
    leases.hold('dst.test', descriptor.digest, other, clock.now() + 500);
    // Done into this repository, but its index write was lost: only a HEAD finds it.
    clock.onSleep = () => {
      destination.blobs.set(descriptor.digest, data);
    };
    const { copier } = copierFor({ shared: { index, leases }, pollMs: 1000 }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'skipped', bytes: 0 });
    expect(leases.calls.map((c) => c.op)).toEqual(['claim', 'claim', 'release']);
    expect(source.count('openBlob')).toBe(0);
  });

  it('streams anyway once maxWaitMs has passed behind a holder that keeps renewing', async () => {
    const { clock, source, destination, descriptor, index, leases } = world();
    leases.hold('dst.test', descriptor.digest, other, clock.now() + 10 * 60_000);
    const { copier, logger } = copierFor({ shared: { index, leases }, maxWaitMs: 5000 }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: size });
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5000);
    expect(logger.lines.some((l) => l.fields.waitedMs === 5000)).toBe(true);
    // Streamed without the claim: nothing to release, the holder keeps it.
    expect(leases.calls.filter((c) => c.op === 'release')).toEqual([]);
    expect(leases.holderOf('dst.test', descriptor.digest)).toBe(other);
  });

  it('streams when the leases fail (an optimisation, never a failure)', async () => {
    const { clock, source, destination, descriptor, index, leases } = world();
    leases.failing = true;
    const { copier } = copierFor({ shared: { index, leases } }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: size });
    expect(leases.calls.map((c) => c.op)).toEqual(['claim']);
  });

  it('never claims small blobs (below minBytes)', async () => {
    const { clock, source, destination, index, leases } = world();
    const small = source.addBlob(bytes(1000, 9));
    const { copier } = copierFor({ shared: { index, leases } }, clock);
    expect(await copier.copy(source, destination, small)).toEqual({ kind: 'copied', bytes: 1000 });
    expect(leases.calls).toEqual([]);
  });

  it('stops waiting when the copy is cancelled', async () => {
    const { clock, source, destination, descriptor, index, leases } = world();
    leases.hold('dst.test', descriptor.digest, other, clock.now() + 60_000);
    const cancel = new AbortController();
    clock.onSleep = () => cancel.abort(new Error('run cancelled'));
    const { copier } = copierFor({ shared: { index, leases } }, clock);
    // The fake sleep checked the signal before the abort; the next poll's sleep sees it.
    await expect(copier.copy(source, destination, descriptor, cancel.signal)).rejects.toThrow('run cancelled');
    expect(source.count('openBlob')).toBe(0);
  });

  it('keeps streaming when a renewal or the release fails: the claim lapses by itself', async () => {
    const { clock, source, destination, descriptor, index, leases } = world();
    destination.faults.before = (call) => {
      if (call.op !== 'writeBlob') return;
      leases.failing = true;
      clock.advance(1000);
    };
    const { copier, logger } = copierFor({ shared: { index, leases }, leaseMs: 3000 }, clock);
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: size });
    await Promise.resolve(); // the renewal's rejection is handled on a later turn
    const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toEqual(['blob lease renewal failed', 'blob lease release failed (it lapses by itself)']);
    expect(clock.running).toBe(0);
  });
});
