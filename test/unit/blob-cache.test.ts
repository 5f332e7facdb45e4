import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobCacheDir, FileBlobIndex } from '../../functions/cli/blob-cache.js';
import { recordingLogger } from './ladder/setup.js';

const dir = (): string => join(mkdtempSync(join(tmpdir(), 'ferry-blob-cache-')), 'ferry', 'blob-locations');
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const day = 86_400_000;

/** A cache on a clock the test moves. */
function cacheAt(path: string, clock: { now: number }, extra: { maxEntries?: number; compactAfter?: number } = {}) {
  const logger = recordingLogger();
  return { logger, cache: new FileBlobIndex({ dir: path, logger, now: () => clock.now, ...extra }) };
}

describe('the CLI blob location cache', () => {
  it('remembers across instances (processes) what one recorded, newest location first', async () => {
    const path = dir();
    const clock = { now: 1_000 * day };
    const first = cacheAt(path, clock).cache;
    await first.record('dst.test:5000', digest(1), 'team/a');
    clock.now += 1_000;
    await first.record('dst.test:5000', digest(1), 'team/b');
    await first.flush();
    const second = cacheAt(path, clock).cache;
    expect(await second.locations('dst.test:5000', digest(1))).toEqual(['team/b', 'team/a']);
    expect(await second.locations('other.test', digest(1))).toEqual([]);
  });

  it('forgets a location for good: an older record read later does not bring it back', async () => {
    const path = dir();
    const clock = { now: 1_000 * day };
    const early = cacheAt(path, clock).cache;
    await early.record('dst.test', digest(2), 'team/gone');
    clock.now += 1_000;
    const refusing = cacheAt(path, clock).cache;
    await refusing.forget('dst.test', digest(2), 'team/gone');
    await refusing.flush();
    // A process that started earlier writes its (older) record after the forget.
    await early.flush();
    expect(await cacheAt(path, clock).cache.locations('dst.test', digest(2))).toEqual([]);
    await cacheAt(path, clock).cache.compact();
    expect(await cacheAt(path, clock).cache.locations('dst.test', digest(2))).toEqual([]);
  });

  it('is bounded in age and size: old locations are not offered and compaction drops them, then the oldest', async () => {
    const path = dir();
    const clock = { now: 1_000 * day };
    const { cache } = cacheAt(path, clock, { maxEntries: 3 });
    await cache.record('dst.test', digest(3), 'old/one');
    clock.now += 31 * day;
    for (const [i, repository] of ['a/one', 'a/two', 'a/three', 'a/four'].entries()) {
      clock.now += 1_000;
      await cache.record('dst.test', digest(10 + i), repository);
    }
    await cache.flush();
    const reader = cacheAt(path, clock, { maxEntries: 3 });
    expect(await reader.cache.locations('dst.test', digest(3))).toEqual([]);
    expect(await reader.cache.compact()).toBe(true);
    const base = JSON.parse(readFileSync(join(path, 'index.json'), 'utf8')) as { entries: { repository: string }[] };
    expect(base.entries.map((e) => e.repository)).toEqual(['a/four', 'a/three', 'a/two']);
    expect(readdirSync(path).filter((n) => n.startsWith('journal-'))).toEqual([]);
  });

  it('refreshes a location on use: recorded again, it outlives its first age', async () => {
    const path = dir();
    const clock = { now: 1_000 * day };
    const first = cacheAt(path, clock).cache;
    await first.record('dst.test', digest(4), 'team/base');
    await first.flush();
    clock.now += 20 * day;
    const second = cacheAt(path, clock).cache;
    await second.record('dst.test', digest(4), 'team/base');
    await second.flush();
    clock.now += 20 * day;
    expect(await cacheAt(path, clock).cache.locations('dst.test', digest(4))).toEqual(['team/base']);
  });

  it('ignores a corrupt or unreadable cache with a debug line, and replaces it on compaction', async () => {
    const path = dir();
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'index.json'), '{"version":1,"entries":[{"registry":"dst.te');
    writeFileSync(join(path, 'journal-0-0-0.json'), JSON.stringify({ version: 7, entries: 'x' }));
    const clock = { now: 1_000 * day };
    const { cache, logger } = cacheAt(path, clock);
    expect(await cache.locations('dst.test', digest(5))).toEqual([]);
    expect(logger.lines.filter((l) => l.message === 'blob cache file ignored')).toHaveLength(2);
    expect(logger.lines.every((l) => l.level === 'debug')).toBe(true);
    await cache.record('dst.test', digest(5), 'team/a');
    await cache.flush();
    expect(await cache.compact()).toBe(true);
    expect(await cacheAt(path, clock).cache.locations('dst.test', digest(5))).toEqual(['team/a']);
    expect(readdirSync(path).sort()).toEqual(['index.json']);

    // A cache directory that is a file: nothing read, nothing written, nothing thrown.
    const blocked = join(mkdtempSync(join(tmpdir(), 'ferry-blob-cache-')), 'file');
    writeFileSync(blocked, 'not a directory');
    const stuck = cacheAt(blocked, clock);
    await stuck.cache.record('dst.test', digest(5), 'team/a');
    expect(await stuck.cache.locations('dst.test', digest(5))).toEqual(['team/a']);
    await expect(stuck.cache.flush()).resolves.toBeUndefined();
    expect(stuck.logger.lines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'debug blob cache file ignored',
      'debug blob cache not written',
    ]);
  });

  it('keeps registry host, repository, digest and time only: a host carrying userinfo is never written', async () => {
    const path = dir();
    const { cache } = cacheAt(path, { now: 1_000 * day });
    await cache.record('alice:secret@dst.test', digest(6), 'team/a');
    await cache.record('dst.test', digest(6), 'team/a');
    await cache.flush();
    const files = readdirSync(path);
    expect(files).toHaveLength(1);
    const text = readFileSync(join(path, files[0]!), 'utf8');
    expect(text).not.toContain('secret');
    const parsed = JSON.parse(text) as { entries: object[] };
    expect(parsed.entries.map((e) => Object.keys(e).sort())).toEqual([['at', 'digest', 'registry', 'repository']]);
  });

  it('loses nothing with many writers at once, compactions included (in-process)', async () => {
    const path = dir();
    const clock = { now: 1_000 * day };
    const writers = Array.from({ length: 12 }, () => cacheAt(path, clock, { compactAfter: 2 }).cache);
    await Promise.all(
      writers.map(async (cache, w) => {
        for (let i = 0; i < 5; i++) {
          await cache.record('dst.test', digest(100 + w), `writer${w}/r${i}`);
          await cache.flush();
        }
      }),
    );
    const reader = cacheAt(path, clock).cache;
    for (let w = 0; w < 12; w++)
      expect((await reader.locations('dst.test', digest(100 + w))).length, `writer ${w}`).toBe(5);
  });

  it('loses nothing and corrupts nothing with two processes writing and compacting at once', async () => {
    const module = resolve(import.meta.dirname, '..', '..', 'dist', 'functions', 'cli', 'blob-cache.js');
    expect(existsSync(module), 'run `npm run build` first').toBe(true);
    const path = dir();
    const script = `
      const { FileBlobIndex } = await import(${JSON.stringify(module)});
      const [who] = process.argv.slice(-1);
      const logger = { debug: (m, f) => console.error(m, JSON.stringify(f)), info() {}, warn() {} };
      for (let i = 0; i < 40; i++) {
        const cache = new FileBlobIndex({ dir: ${JSON.stringify(path)}, logger, compactAfter: 3 });
        const digest = 'sha256:' + who + String(i).padStart(63, '0');
        for (let j = 0; j < 5; j++) await cache.record('dst.test', digest, 'repo/r' + j);
        await cache.flush();
      }`;
    const run = (who: string) =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, who], { stdio: 'pipe' });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => done({ code, stderr }));
      });
    const results = await Promise.all([run('a'), run('b')]);
    expect(results).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ]);
    const { cache, logger } = cacheAt(path, { now: Date.now() });
    for (const who of ['a', 'b'])
      for (let i = 0; i < 40; i++)
        expect((await cache.locations('dst.test', `sha256:${who}${String(i).padStart(63, '0')}`)).length).toBe(5);
    expect(logger.lines).toEqual([]);
    // They did compact (80 journals were written), and left no temporary file or lock behind.
    const left = readdirSync(path);
    expect(left).toContain('index.json');
    expect(left.filter((n) => n.startsWith('journal-')).length).toBeLessThan(10);
    expect(left.filter((n) => n.startsWith('.tmp-') || n === 'compact.lock')).toEqual([]);
  });

  it('lives under $XDG_CACHE_HOME/ferry, else ~/.cache/ferry (a relative XDG_CACHE_HOME is ignored)', () => {
    expect(blobCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/ferry/blob-locations');
    expect(blobCacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/home/u' })).toBe('/home/u/.cache/ferry/blob-locations');
    expect(blobCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/ferry/blob-locations');
  });
});
