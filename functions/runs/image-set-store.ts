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
  /** An EventBridge Scheduler expression, stored only (the schedule itself is a later slice). */
  readonly schedule?: string;
}

/** The service-wide settings (`GET/PUT /v1/settings`). WARNING: credentials only by secret reference. */
export interface Settings {
  readonly defaultDestination: DestinationInput | null;
}

/** Stored image sets: one item per name; every write is conditional on the version it replaces. */
export interface ImageSetStore {
  getImageSet(name: string): Promise<StoredImageSet | undefined>;
  /**
   * Writes `set` if the stored version is still `expectedVersion` (0: no set of that name exists).
   * Returns false, writing nothing, when another write came first: two writers never both claim a version.
   */
  putImageSet(set: StoredImageSet, expectedVersion: number): Promise<boolean>;
  /** By name, ascending; `nextToken` is the one the previous page returned. */
  listImageSets(limit: number, nextToken?: string): Promise<Page<StoredImageSet>>;
  /** Returns false when there was no set of that name. */
  deleteImageSet(name: string): Promise<boolean>;
}

/** The settings item. */
export interface SettingsStore {
  getSettings(): Promise<Settings>;
  putSettings(settings: Settings): Promise<void>;
}
