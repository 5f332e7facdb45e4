import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { BlobIndex } from '../mirror/blob-index.js';
import type { Logger } from '../oci/log.js';
import {
  baseFile,
  type CacheEntry,
  countJournals,
  isCacheable,
  journalName,
  readCache,
  removeJournals,
  withCompactionLock,
  writeCacheFile,
} from './blob-cache-files.js';

export interface FileBlobIndexOptions {
  /** The cache directory (see {@link blobCacheDir}). */
  readonly dir: string;
  /** Gets the debug lines: an unusable cache is never an error. */
  readonly logger: Logger;
  /** Epoch ms (tests inject a clock). */
  readonly now?: () => number;
  /** Locations not used for this long are dropped (default 30 days, as the service's index). */
  readonly maxAgeMs?: number;
  /** Entries kept at most, newest first (default 10,000: about 1.5 MB). */
  readonly maxEntries?: number;
  /** Journals that trigger a compaction (default 16). */
  readonly compactAfter?: number;
}

/** Mount candidates per blob: more would only be refused mounts in a row (as the service's index). */
const maxLocationsPerBlob = 8;

/**
 * Where the CLI keeps what it learns about blob locations: `$XDG_CACHE_HOME/ferry/blob-locations`,
 * else `~/.cache/ferry/blob-locations` (a relative XDG_CACHE_HOME is ignored, as the XDG spec says).
 */
export function blobCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const root = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.cache');
  return join(root, 'ferry', 'blob-locations');
}

/**
 * The CLI's memory across processes (skopeo's blob-info cache, for mounts): destination registry +
 * digest → repositories, so a second `ferry copy` into another repository of the same registry
 * mounts the layer the first one uploaded. The ladder records a location only once the registry
 * confirmed it (HEAD, a 201 mount, a committed upload), refreshes it when a mount from it works,
 * and forgets it when a mount from it is refused.
 *
 * On disk: one base file plus journals. Each process reads them once (lazily), and at `flush`
 * writes what it learnt as a new journal (temp file + rename: no two processes ever write one
 * file, and no reader sees half a file); once journals pile up, one process at a time (a lock
 * file) merges them into the base, bounded in age and size, then deletes the journals it merged.
 * A journal written meanwhile is merged next time. Anything unreadable is ignored with a debug line.
 */
export class FileBlobIndex implements BlobIndex {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #compactAfter: number;
  /** `registry digest` → repository → its latest entry. */
  #known: Promise<Map<string, Map<string, CacheEntry>>> | undefined;
  #pending: CacheEntry[] = [];

  constructor(options: FileBlobIndexOptions) {
    this.#dir = options.dir;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#maxAgeMs = options.maxAgeMs ?? 30 * 86_400_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#compactAfter = options.compactAfter ?? 16;
  }

  async locations(registry: string, digest: string): Promise<readonly string[]> {
    const since = this.#now() - this.#maxAgeMs;
    const found = [...((await this.#load()).get(`${registry} ${digest}`)?.values() ?? [])];
    return found
      .filter((e) => !e.forgotten && e.at >= since)
      .sort((a, b) => b.at - a.at)
      .slice(0, maxLocationsPerBlob)
      .map((e) => e.repository);
  }

  record(registry: string, digest: string, repository: string): Promise<void> {
    return this.#note({ registry, digest, repository, at: this.#now() });
  }

  forget(registry: string, digest: string, repository: string): Promise<void> {
    return this.#note({ registry, digest, repository, at: this.#now(), forgotten: true });
  }

  /**
   * Writes what this process learnt as a journal, then compacts when journals pile up. Never
   * throws: a cache that cannot be written only costs the next process its mounts.
   */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return;
    try {
      await writeCacheFile(this.#dir, journalName(this.#now()), pending);
      if ((await countJournals(this.#dir)) >= this.#compactAfter) await this.compact();
    } catch (err) {
      this.#logger.debug('blob cache not written', { dir: this.#dir, error: String(err) });
    }
  }

  /** Merges the journals into the base, dropping old entries and the oldest beyond the bound; false when another process is at it. */
  compact(): Promise<boolean> {
    return withCompactionLock(this.#dir, async () => {
      const snapshot = await readCache(this.#dir);
      this.#report(snapshot.problems);
      await writeCacheFile(this.#dir, baseFile, this.#bounded(latest(snapshot.entries)));
      // WARNING: only after the new base is in place (see readCache): a reader never misses an entry.
      await removeJournals(this.#dir, snapshot.journals);
    });
  }

  async #note(entry: CacheEntry): Promise<void> {
    if (!isCacheable(entry)) return;
    const known = await this.#load();
    setLatest(known, entry);
    this.#pending.push(entry);
  }

  #load(): Promise<Map<string, Map<string, CacheEntry>>> {
    this.#known ??= readCache(this.#dir).then(
      (snapshot) => {
        this.#report(snapshot.problems);
        return latest(snapshot.entries);
      },
      (err: unknown) => {
        this.#report([{ file: this.#dir, error: String(err) }]);
        return new Map();
      },
    );
    return this.#known;
  }

  /**
   * The entries worth keeping, newest first: none older than the age bound, at most 8 per blob
   * and `maxEntries` in all. Forgotten entries stay until they age out, so that an older record
   * in a journal not merged yet cannot bring a refused location back.
   */
  #bounded(known: Map<string, Map<string, CacheEntry>>): CacheEntry[] {
    const since = this.#now() - this.#maxAgeMs;
    return [...known.values()]
      .flatMap((repositories) =>
        [...repositories.values()]
          .filter((e) => e.at >= since)
          .sort((a, b) => b.at - a.at)
          .slice(0, maxLocationsPerBlob * 2),
      )
      .sort((a, b) => b.at - a.at)
      .slice(0, this.#maxEntries);
  }

  #report(problems: readonly { file: string; error: string }[]): void {
    for (const problem of problems) this.#logger.debug('blob cache file ignored', problem);
  }
}

/** The latest entry per blob location, whatever order the files were read in. */
function latest(entries: readonly CacheEntry[]): Map<string, Map<string, CacheEntry>> {
  const known = new Map<string, Map<string, CacheEntry>>();
  for (const entry of entries) setLatest(known, entry);
  return known;
}

function setLatest(known: Map<string, Map<string, CacheEntry>>, entry: CacheEntry): void {
  const key = `${entry.registry} ${entry.digest}`;
  let repositories = known.get(key);
  if (!repositories) known.set(key, (repositories = new Map()));
  const seen = repositories.get(entry.repository);
  if (!seen || seen.at <= entry.at) repositories.set(entry.repository, entry);
}
