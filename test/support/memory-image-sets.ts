import { InvalidTokenError } from '../../functions/runs/errors.js';
import type { ImageSetStore, Settings, SettingsStore, StoredImageSet } from '../../functions/runs/image-set-store.js';
import type { Page } from '../../functions/runs/store.js';

/**
 * ImageSetStore and SettingsStore in memory, with DynamoImageSets' rules: a set write is made only
 * over the version it expects (0: none), listings go by name, deletes of absent sets say so.
 * Values are cloned in and out, as a round trip through the table would. `beforePut` runs before
 * each conditional write is decided: a test makes a concurrent writer win there. A delete keeps
 * the last version as a tombstone (`deletedVersions`), as the table's tombstone item does.
 */
export class MemoryImageSets implements ImageSetStore, SettingsStore {
  readonly sets = new Map<string, StoredImageSet>();
  /** Deleted sets' last versions (a PUT goes on from there). */
  readonly deletedVersions = new Map<string, number>();
  settings: Settings = { defaultDestination: null };
  /** Every write in order (`put` with whether it was made). */
  readonly calls: { op: 'put' | 'delete' | 'putSettings'; name?: string; version?: number; made?: boolean }[] = [];
  beforePut: ((set: StoredImageSet) => Promise<void>) | undefined;

  async getImageSet(name: string): Promise<StoredImageSet | undefined> {
    const set = this.sets.get(name);
    return set && structuredClone(set);
  }

  async getImageSetVersion(name: string): Promise<{ set: StoredImageSet | undefined; version: number }> {
    const set = await this.getImageSet(name);
    return { set, version: this.#version(name) };
  }

  async putImageSet(set: StoredImageSet, expectedVersion: number): Promise<boolean> {
    await this.beforePut?.(set);
    const made = this.#version(set.name) === expectedVersion;
    if (made) {
      this.sets.set(set.name, structuredClone(set));
      this.deletedVersions.delete(set.name);
    }
    this.calls.push({ op: 'put', name: set.name, version: set.version, made });
    return made;
  }

  /** The token is the last name of the page (no other listing's token has its shape). */
  async listImageSets(limit: number, nextToken?: string): Promise<Page<StoredImageSet>> {
    const all = [...this.sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let start = 0;
    if (nextToken !== undefined) {
      // As DynamoDB's ExclusiveStartKey: after that name, whether or not it still exists.
      if (!/^[a-z0-9-]{1,63}$/.test(nextToken)) throw new InvalidTokenError('nextToken: not a token this API returned');
      start = all.findIndex((s) => s.name > nextToken);
      if (start < 0) start = all.length;
    }
    const items = all.slice(start, start + limit).map((s) => structuredClone(s));
    const more = start + limit < all.length;
    return { items, ...(more ? { nextToken: items[items.length - 1]!.name } : {}) };
  }

  async deleteImageSet(name: string): Promise<boolean> {
    this.calls.push({ op: 'delete', name });
    const set = this.sets.get(name);
    if (!set) return false;
    this.deletedVersions.set(name, set.version);
    return this.sets.delete(name);
  }

  #version(name: string): number {
    return this.sets.get(name)?.version ?? this.deletedVersions.get(name) ?? 0;
  }

  async getSettings(): Promise<Settings> {
    return structuredClone(this.settings);
  }

  async putSettings(settings: Settings): Promise<void> {
    this.calls.push({ op: 'putSettings' });
    this.settings = structuredClone(settings);
  }
}
