import { describe, expect, it } from 'vitest';
import { MemoryBlobIndex } from '../../../functions/mirror/blob-index.js';
import { memoryRegistry, MemoryRepository } from '../../support/memory-repository.js';
import { bytes, copierFor, recordingLogger } from './setup.js';

const big = 2 << 20; // above the shared index's 1 MiB default

describe('the blob ladder, rung by rung', () => {
  it('skips a blob the destination has (HEAD), opening nothing at the source', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
    const descriptor = source.addBlob(bytes(500));
    destination.addBlob(bytes(500));
    const { copier } = copierFor();
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'skipped', bytes: 0 });
    expect(source.calls).toEqual([]);
    expect(destination.calls.map((c) => c.op)).toEqual(['headBlob']);
  });

  it('streams a blob the destination lacks, byte for byte, with its size in the outcome', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
    const data = bytes(70_000);
    const descriptor = source.addBlob(data);
    const { copier } = copierFor();
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: 70_000 });
    expect(destination.blobs.get(descriptor.digest)?.equals(data)).toBe(true);
    expect(source.calls).toEqual([{ op: 'openBlob', target: descriptor.digest, offset: 0 }]);
    // Across registries there is nothing to mount from.
    expect(destination.count('mountBlob')).toBe(0);
  });

  it("mounts from the source's own repository when both are on one registry", async () => {
    const repo = memoryRegistry('one.test');
    const source = repo('app');
    const destination = repo('mirror/app');
    const descriptor = source.addBlob(bytes(1000));
    const { copier } = copierFor();
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'mounted', bytes: 0, from: 'app' });
    expect(source.count('openBlob')).toBe(0);
    expect(destination.blobs.has(descriptor.digest)).toBe(true);
  });

  it('mounts from the in-process index: a blob this copier put into one repository mounts into the next', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const repo = memoryRegistry('dst.test');
    const first = repo('mirror/one');
    const second = repo('mirror/two');
    const descriptor = source.addBlob(bytes(3000));
    const { copier } = copierFor();
    expect((await copier.copy(source, first, descriptor)).kind).toBe('copied');
    expect(await copier.copy(source, second, descriptor)).toEqual({ kind: 'mounted', bytes: 0, from: 'mirror/one' });
    expect(source.count('openBlob')).toBe(1);
  });

  it("mounts from the shared index: another process's copy in a sibling repository", async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const repo = memoryRegistry('dst.test');
    const sibling = repo('team/base');
    const destination = repo('mirror/app');
    const descriptor = source.addBlob(bytes(big, 3));
    sibling.addBlob(bytes(big, 3));
    const index = new MemoryBlobIndex();
    await index.record('dst.test', descriptor.digest, 'team/base');
    const { copier } = copierFor({ shared: { index } });
    expect(await copier.copy(source, destination, descriptor)).toEqual({
      kind: 'mounted',
      bytes: 0,
      from: 'team/base',
    });
    expect(source.count('openBlob')).toBe(0);
    expect(await index.locations('dst.test', descriptor.digest)).toEqual(['team/base', 'mirror/app']);
  });

  it('trusts a location only until a mount from it fails: a refused one is forgotten, and the blob streams', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const repo = memoryRegistry('dst.test');
    // Recorded by an earlier run, since deleted: the sibling no longer holds the blob.
    repo('team/deleted');
    const destination = repo('mirror/app');
    const descriptor = source.addBlob(bytes(big, 8));
    const index = new MemoryBlobIndex();
    await index.record('dst.test', descriptor.digest, 'team/deleted');
    const { copier, logger } = copierFor({ shared: { index } });
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: big });
    expect(destination.calls.filter((c) => c.op === 'mountBlob')).toMatchObject([{ from: 'team/deleted' }]);
    expect(await index.locations('dst.test', descriptor.digest)).toEqual(['mirror/app']);
    expect(logger.lines.map((l) => l.message)).toContain('blob mount refused: location forgotten');
  });

  it('refreshes the location a mount came from: it proved to hold the blob', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const repo = memoryRegistry('dst.test');
    repo('team/base').addBlob(bytes(big, 9));
    const descriptor = source.addBlob(bytes(big, 9));
    const recorded: string[] = [];
    const index = new MemoryBlobIndex();
    await index.record('dst.test', descriptor.digest, 'team/base');
    const watched = {
      locations: (r: string, d: string) => index.locations(r, d),
      record: (r: string, d: string, repository: string) => (recorded.push(repository), index.record(r, d, repository)),
      forget: (r: string, d: string, repository: string) => index.forget(r, d, repository),
    };
    const { copier } = copierFor({ shared: { index: watched } });
    expect((await copier.copy(source, repo('mirror/app'), descriptor)).kind).toBe('mounted');
    expect(recorded.sort()).toEqual(['mirror/app', 'team/base']);
  });

  it('streams into the upload session a refused mount opened, and records where the blob now is', async () => {
    const repo = memoryRegistry('one.test');
    const source = repo('app');
    const destination = repo('mirror/app', { refuseMounts: true });
    const descriptor = source.addBlob(bytes(big, 4));
    const index = new MemoryBlobIndex();
    const { copier } = copierFor({ shared: { index } });
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: big });
    const mount = destination.calls.find((c) => c.op === 'mountBlob');
    const write = destination.calls.find((c) => c.op === 'writeBlob');
    expect(mount).toMatchObject({ from: 'app' });
    expect(write?.session).toMatch(/^session-\d+$/);
    expect(await index.locations('one.test', descriptor.digest)).toEqual(['mirror/app']);
  });

  it('copies small blobs without asking the shared index (minBytes)', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
    const small = source.addBlob(bytes(4096, 5));
    const large = source.addBlob(bytes(10_000, 6));
    const asked: string[] = [];
    const index = {
      locations: (_r: string, digest: string) => (asked.push(`locations ${digest}`), Promise.resolve([])),
      record: (_r: string, digest: string) => (asked.push(`record ${digest}`), Promise.resolve()),
      forget: (_r: string, digest: string) => (asked.push(`forget ${digest}`), Promise.resolve()),
    };
    const { copier } = copierFor({ shared: { index, minBytes: 8192 } });
    await copier.copy(source, destination, small);
    expect(asked).toEqual([]);
    await copier.copy(source, destination, large);
    expect(asked).toEqual([`locations ${large.digest}`, `record ${large.digest}`]);
  });

  it('streams when the shared index fails, and says so once per failure', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
    const descriptor = source.addBlob(bytes(big, 7));
    const index = {
      locations: () => Promise.reject(new Error('table down')),
      record: () => Promise.reject(new Error('table down')),
      forget: () => Promise.reject(new Error('table down')),
    };
    const logger = recordingLogger();
    const { copier } = copierFor({ shared: { index }, logger });
    expect(await copier.copy(source, destination, descriptor)).toEqual({ kind: 'copied', bytes: big });
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      "blob index lookup failed; not mounting from other processes' copies",
      'blob index write failed',
    ]);
  });

  it('reports progress: start, bytes up to the size, end with the outcome', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
    const descriptor = source.addBlob(bytes(5000));
    const seen: string[] = [];
    const done: number[] = [];
    const { copier } = copierFor({
      progress: {
        onStart: (d, to) => seen.push(`start ${d.digest} ${to}`),
        onBytes: (_d, n) => done.push(n),
        onEnd: (d, outcome) => seen.push(`end ${d.digest} ${outcome?.kind ?? 'failed'}`),
      },
    });
    await copier.copy(source, destination, descriptor);
    expect(seen).toEqual([`start ${descriptor.digest} dst.test/mirror/app`, `end ${descriptor.digest} copied`]);
    expect(done.at(-1)).toBe(5000);
  });

  it('reports a failed stream to progress with no outcome', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
    const descriptor = source.addBlob(bytes(100));
    source.blobs.clear(); // the source lost it: NotFoundError, permanent
    const ends: unknown[] = [];
    const { copier } = copierFor({ progress: { onEnd: (_d, outcome) => ends.push(outcome) } });
    const error = await copier.copy(source, destination, descriptor).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NotFoundError' });
    expect(ends).toEqual([undefined]);
    expect(source.count('openBlob')).toBe(1);
  });

  it('starts nothing for a copy cancelled before its turn', async () => {
    const source = new MemoryRepository('app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
    const descriptor = source.addBlob(bytes(100));
    const cancel = new AbortController();
    cancel.abort(new Error('cancelled'));
    const { copier } = copierFor();
    await expect(copier.copy(source, destination, descriptor, cancel.signal)).rejects.toThrow('cancelled');
    expect([...source.calls, ...destination.calls]).toEqual([]);
  });
});
