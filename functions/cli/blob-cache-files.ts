import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One fact about where a blob is: `repository` of `registry` held `digest` at `at` (epoch ms),
 * or, `forgotten`, a mount from it was refused then. Registry host, repository, digest and a
 * time — never a credential.
 */
export interface CacheEntry {
  readonly registry: string;
  readonly digest: string;
  readonly repository: string;
  readonly at: number;
  readonly forgotten?: true;
}

/** A registry host[:port] as references name it: no userinfo, no path, nothing that could carry a secret. */
export const registryHostPattern = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const repositoryPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

const entrySchema = z.object({
  registry: z.string().regex(registryHostPattern),
  digest: z.string().regex(digestPattern),
  repository: z.string().max(255).regex(repositoryPattern),
  at: z.number().int().nonnegative(),
  forgotten: z.literal(true).optional(),
});
const fileSchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

/** Whether an entry may be written: the same rules a file is read with. */
export const isCacheable = (entry: CacheEntry): boolean => entrySchema.safeParse(entry).success;

/** The compacted file: what every journal merged so far says. */
export const baseFile = 'index.json';
/** Held while one process compacts; a lock older than this is left over from a killed process. */
export const lockFile = 'compact.lock';
const staleLockMs = 60_000;
const journalPattern = /^journal-[0-9a-z.-]+\.json$/;

/** What reading the cache directory found: entries, the journals they came from, and files it could not use. */
export interface CacheSnapshot {
  readonly entries: CacheEntry[];
  /** Journals read (merged or corrupt): compaction removes them once the base holds their entries. */
  readonly journals: string[];
  readonly problems: { readonly file: string; readonly error: string }[];
}

/**
 * Reads every journal, then the base. WARNING: in that order — a compaction that runs meanwhile
 * renames its new base into place before it deletes the journals it merged, so an entry of a
 * journal that vanished before it was read is in the base read after it.
 */
export async function readCache(dir: string): Promise<CacheSnapshot> {
  const snapshot: CacheSnapshot = { entries: [], journals: [], problems: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') snapshot.problems.push({ file: dir, error: String(err) });
    return snapshot;
  }
  for (const name of journalsIn(names)) {
    if (await readInto(join(dir, name), snapshot)) snapshot.journals.push(name);
  }
  await readInto(join(dir, baseFile), snapshot);
  return snapshot;
}

/** The journals among a directory's names, oldest first. */
const journalsIn = (names: readonly string[]): string[] => names.filter((n) => journalPattern.test(n)).sort();

/** How many journals wait to be merged. */
export async function countJournals(dir: string): Promise<number> {
  return journalsIn(await readdir(dir)).length;
}

/** Adds one file's entries; false when it is gone. A corrupt file adds a problem (and counts as read). */
async function readInto(path: string, snapshot: CacheSnapshot): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    snapshot.problems.push({ file: path, error: String(err) });
    return true;
  }
  try {
    snapshot.entries.push(...fileSchema.parse(JSON.parse(text)).entries);
  } catch (err) {
    snapshot.problems.push({
      file: path,
      error: err instanceof z.ZodError ? 'not a Ferry blob cache file' : String(err),
    });
  }
  return true;
}

/**
 * Writes `entries` to `dir/name` all at once: a temporary file renamed into place, so a reader
 * sees the old file or the new one, never half of one — and two writers never share a file.
 */
export async function writeCacheFile(dir: string, name: string, entries: readonly CacheEntry[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(tmp, JSON.stringify({ version: 1, entries }), { mode: 0o600 });
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A new journal's name: unique per process and write, sorted by time. */
export const journalName = (now: number): string =>
  `journal-${now.toString(36)}-${process.pid.toString(36)}-${randomBytes(4).toString('hex')}.json`;

/**
 * Runs `work` holding the compaction lock; returns false without running it when another
 * process holds it. A lock older than a minute is a killed process's: taken over.
 */
export async function withCompactionLock(dir: string, work: () => Promise<void>): Promise<boolean> {
  const path = join(dir, lockFile);
  const acquire = async (): Promise<boolean> => {
    try {
      await (await open(path, 'wx', 0o600)).close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return false;
    }
  };
  let held = await acquire();
  if (!held) {
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age < staleLockMs) return false;
    await unlink(path).catch(() => undefined);
    held = await acquire();
    if (!held) return false;
  }
  try {
    await work();
    return true;
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

/** Deletes merged journals (one that is gone already is fine). */
export async function removeJournals(dir: string, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => rm(join(dir, name), { force: true })));
}
