import { describe, expect, it } from 'vitest';
import { LocalSetScheduler } from '../../../functions/local/local-set-scheduler.js';
import { ImageSetNotFoundError } from '../../../functions/runs/errors.js';
import type { StoredImageSet } from '../../../functions/runs/image-set-store.js';
import { ImageSetService } from '../../../functions/runs/image-sets.js';
import {
  setScheduleInput,
  setScheduleLock,
  setScheduleRun,
  type SetScheduler,
} from '../../../functions/runs/set-scheduler.js';
import { FakeClock } from '../../support/fake-clock.js';
import { MemoryImageSets } from '../../support/memory-image-sets.js';

const config = {
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: { additionalImages: [{ name: 'registry.example/app:1' }] },
};

/** A SetScheduler that records its calls, with the store's state seen at each call. */
class RecordingScheduler implements SetScheduler {
  readonly calls: [string, string, string | undefined, number | undefined][] = [];
  constructor(readonly store: MemoryImageSets) {}
  async apply(name: string, expression: string | undefined): Promise<void> {
    this.calls.push(['apply', name, expression, this.store.sets.get(name)?.version]);
  }
  async remove(name: string): Promise<void> {
    this.calls.push(['remove', name, undefined, this.store.sets.get(name)?.version]);
  }
}

const minute = 60_000;

describe('ImageSetService keeps the schedule through the SetScheduler port', () => {
  it('applies after the set is stored, removes on a PUT without schedule and on DELETE; never on a refused request', async () => {
    const store = new MemoryImageSets();
    const scheduler = new RecordingScheduler(store);
    const service = new ImageSetService(store, () => new Date('2026-05-01T00:00:00Z'), scheduler);
    await service.putImageSet('nightly', { kind: 'json', body: { config, schedule: 'cron(0 3 * * ? *)' } });
    await service.putImageSet('nightly', { kind: 'json', body: { config, schedule: 'rate(6 hours)' } });
    await service.putImageSet('nightly', { kind: 'json', body: { config } });
    await service.putImageSet('nightly', {
      kind: 'yaml',
      text: 'kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror: {}\n',
    });
    await service.deleteImageSet('nightly');
    // Refused: a bad schedule (nothing stored, nothing applied), a DELETE of nothing.
    await service.putImageSet('nightly', { kind: 'json', body: { config, schedule: 'rate(1 hours)' } }).catch(() => {});
    expect(await service.deleteImageSet('nightly').catch((e: unknown) => e)).toBeInstanceOf(ImageSetNotFoundError);
    expect(scheduler.calls).toEqual([
      // The 4th element: the version stored when the port was called (after the write).
      ['apply', 'nightly', 'cron(0 3 * * ? *)', 1],
      ['apply', 'nightly', 'rate(6 hours)', 2],
      ['apply', 'nightly', undefined, 3],
      ['apply', 'nightly', undefined, 4],
      ['remove', 'nightly', undefined, undefined],
    ]);
  });

  it('one lock name and one target input for the adapter, ferry serve and the scheduled-run handler', () => {
    expect(setScheduleLock('nightly')).toBe('set:nightly');
    expect(setScheduleRun('nightly')).toEqual({ imageSet: 'nightly' });
    expect(setScheduleInput('nightly')).toEqual({ schedule: 'set:nightly', run: { imageSet: 'nightly' } });
  });
});

describe('versions never repeat: a DELETE leaves a tombstone', () => {
  it('GET and list treat a deleted set as absent; the next PUT goes on from the last version', async () => {
    const store = new MemoryImageSets();
    let t = Date.parse('2026-05-01T00:00:00Z');
    const service = new ImageSetService(store, () => new Date((t += 1000)));
    await service.putImageSet('s', { kind: 'json', body: { config } });
    await service.putImageSet('s', { kind: 'json', body: { config } });
    await service.deleteImageSet('s');
    expect(await service.getImageSet('s').catch((e: unknown) => e)).toBeInstanceOf(ImageSetNotFoundError);
    expect((await service.listImageSets(10)).imageSets).toEqual([]);
    expect(await store.getImageSetVersion('s')).toEqual({ set: undefined, version: 2 });
    const again = await service.putImageSet('s', { kind: 'json', body: { config } });
    // A new set: version 3, created now (not the deleted set's createdAt).
    expect(again).toMatchObject({ version: 3, createdAt: again.updatedAt });
    expect(again.createdAt).not.toBe('2026-05-01T00:00:01.000Z');
    expect((await service.listImageSets(10)).imageSets.map((s) => [s.name, s.version])).toEqual([['s', 3]]);
  });

  it('two PUTs right after a DELETE never claim one version (the conditional write holds over the tombstone)', async () => {
    const store = new MemoryImageSets();
    const service = new ImageSetService(store);
    await service.putImageSet('race', { kind: 'json', body: { config } });
    await service.deleteImageSet('race');
    const both = await Promise.all([
      service.putImageSet('race', { kind: 'json', body: { config, destination: { registry: 'a.example' } } }),
      service.putImageSet('race', { kind: 'json', body: { config, destination: { registry: 'b.example' } } }),
    ]).catch((e: unknown) => e);
    // Both read version 1 (the tombstone's); one claim of 2 is refused and retried as 3.
    expect(Array.isArray(both) ? both.map((s) => s.version).sort() : both).toEqual([2, 3]);
    expect(store.calls.filter((c) => c.op === 'put' && c.made).map((c) => c.version)).toEqual([1, 2, 3]);
    expect(store.calls.some((c) => c.op === 'put' && c.version === 2 && !c.made)).toBe(true);
  });

  it('a store write whose expected version is the deleted one is refused once another PUT took the next', async () => {
    const store = new MemoryImageSets();
    const base = (version: number): StoredImageSet => ({
      name: 'x',
      version,
      createdAt: 'c',
      updatedAt: 'u',
      config,
    });
    expect(await store.putImageSet(base(1), 0)).toBe(true);
    expect(await store.deleteImageSet('x')).toBe(true);
    expect(await store.deleteImageSet('x')).toBe(false);
    expect(await store.putImageSet(base(1), 0)).toBe(false);
    expect(await store.putImageSet(base(2), 1)).toBe(true);
    expect(await store.putImageSet(base(2), 1)).toBe(false);
  });
});

describe('LocalSetScheduler (ferry serve) over a fake clock', () => {
  function setup(start = '2026-01-31T23:50:00Z') {
    const clock = new FakeClock(start);
    const fired: [string, string][] = [];
    const scheduler = new LocalSetScheduler({
      clock,
      start: async (name) => void fired.push([name, clock.now().toISOString()]),
    });
    return { clock, fired, scheduler };
  }

  it('fires a rate every interval from when it was applied, re-armed after each fire', async () => {
    const { clock, fired, scheduler } = setup();
    await scheduler.apply('five', 'rate(5 minutes)');
    expect(clock.pending()).toEqual([5 * minute]);
    clock.advance(5 * minute - 1);
    expect(fired).toEqual([]);
    clock.advance(1 + 10 * minute);
    await scheduler.idle();
    expect(fired).toEqual([
      ['five', '2026-01-31T23:55:00.000Z'],
      ['five', '2026-02-01T00:00:00.000Z'],
      ['five', '2026-02-01T00:05:00.000Z'],
    ]);
    expect(clock.pending()).toEqual([5 * minute]);
  });

  it('fires a cron on its UTC minutes across a month end; a new apply replaces the timer; remove and close stop it', async () => {
    const { clock, fired, scheduler } = setup('2026-02-28T23:00:00Z');
    await scheduler.apply('night', 'rate(1 minute)');
    await scheduler.apply('night', 'cron(30 0 1 * ? *)');
    expect(clock.pending()).toEqual([90 * minute]);
    clock.advance(32 * 24 * 60 * minute);
    await scheduler.idle();
    expect(fired).toEqual([
      ['night', '2026-03-01T00:30:00.000Z'],
      ['night', '2026-04-01T00:30:00.000Z'],
    ]);
    await scheduler.remove('night');
    expect(clock.pending()).toEqual([]);
    await scheduler.apply('night', 'rate(1 minute)');
    await scheduler.apply('other', 'rate(1 minute)');
    await scheduler.apply('other', undefined);
    expect(scheduler.scheduled()).toEqual(['night']);
    scheduler.close();
    clock.advance(10 * minute);
    expect(fired).toHaveLength(2);
  });

  it('waits in hops for a fire past the longest timer (no immediate fire) and never fires a cron that cannot', async () => {
    const { clock, fired, scheduler } = setup('2026-01-01T00:00:00Z');
    await scheduler.apply('yearly', 'cron(0 0 1 JAN ? *)');
    expect(clock.pending()).toEqual([2 ** 31 - 1]);
    clock.advance(300 * 24 * 60 * minute);
    expect(fired).toEqual([]);
    clock.advance(70 * 24 * 60 * minute);
    await scheduler.idle();
    expect(fired).toEqual([['yearly', '2027-01-01T00:00:00.000Z']]);
    await scheduler.apply('never', 'cron(0 0 * * ? 2020)');
    expect(scheduler.scheduled()).toEqual(['yearly']);
  });

  it('arms every stored set with a schedule on start (all pages), a rate counted from its last write', async () => {
    const { clock, fired, scheduler } = setup('2026-01-01T00:07:00Z');
    const store = new MemoryImageSets();
    const set = (name: string, schedule?: string): StoredImageSet => ({
      name,
      version: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      config,
      ...(schedule ? { schedule } : {}),
    });
    for (let i = 0; i < 150; i++) await store.putImageSet(set(`s${String(i).padStart(3, '0')}`), 0);
    await store.putImageSet(set('zz-rate', 'rate(5 minutes)'), 0);
    await store.putImageSet(set('zz-cron', 'cron(0 * * * ? *)'), 0);
    expect(await scheduler.armStored(store)).toBe(2);
    expect(scheduler.scheduled()).toEqual(['zz-cron', 'zz-rate']);
    clock.advance(3 * minute);
    await scheduler.idle();
    expect(fired).toEqual([['zz-rate', '2026-01-01T00:10:00.000Z']]);
  });

  it('a start that fails is logged, and the schedule keeps firing', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const warnings: unknown[] = [];
    let calls = 0;
    const scheduler = new LocalSetScheduler({
      clock,
      start: async () => {
        calls++;
        throw new Error('no such set');
      },
      logger: { debug() {}, info() {}, warn: (message, fields) => warnings.push([message, fields?.['imageSet']]) },
    });
    await scheduler.apply('gone', 'rate(1 minute)');
    clock.advance(2 * minute);
    await scheduler.idle();
    expect(calls).toBe(2);
    expect(warnings).toEqual([
      ['scheduled run of image set failed', 'gone'],
      ['scheduled run of image set failed', 'gone'],
    ]);
  });
});
