import type { DestinationInput } from './run-request.js';
import type { Page } from './store.js';

/**
 * A stored image set (`PUT /v1/image-sets/{name}`). `config` is the document as a JSON value, as
 * the caller sent it (a YAML body decoded); `version` counts its writes from 1.
 * WARNING: `destination.credentials` is only ever a secret reference: no secret is stored here.
 */
export interface StoredImageSet {
  readonly name: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly config: unknown;
  readonly destination?: DestinationInput;
  /** An EventBridge Scheduler expression: the set's schedule (SetScheduler) starts a run of it. */
  readonly schedule?: string;
}

/** The service-wide settings (`GET/PUT /v1/settings`). WARNING: credentials only by secret reference. */
export interface Settings {
  readonly defaultDestination: DestinationInput | null;
}

/**
 * Stored image sets: one item per name; every write is conditional on the version it replaces.
 * WARNING: versions never repeat under a name: a delete leaves a tombstone with the last version,
 * so a set deleted and stored again goes on from there (runs record set name + version).
 */
export interface ImageSetStore {
  /** The live set (a deleted one is absent). */
  getImageSet(name: string): Promise<StoredImageSet | undefined>;
  /** The live set, if any, and the last version written under the name (a deleted set's too; 0: never written). */
  getImageSetVersion(name: string): Promise<{ set: StoredImageSet | undefined; version: number }>;
  /**
   * Writes `set` if the last version is still `expectedVersion` (0: no set of that name was ever written).
   * Returns false, writing nothing, when another write came first: two writers never both claim a version.
   */
  putImageSet(set: StoredImageSet, expectedVersion: number): Promise<boolean>;
  /** By name, ascending; `nextToken` is the one the previous page returned. */
  listImageSets(limit: number, nextToken?: string): Promise<Page<StoredImageSet>>;
  /** Leaves a tombstone with the last version; returns false when there was no live set of that name. */
  deleteImageSet(name: string): Promise<boolean>;
}

/** The settings item. */
export interface SettingsStore {
  getSettings(): Promise<Settings>;
  putSettings(settings: Settings): Promise<void>;
}
