import type { Descriptor } from '../oci/manifest.js';

/** What happened to one blob: the ladder's outcome, a value, not an exception. */
export type BlobOutcome =
  | { readonly kind: 'skipped'; readonly bytes: 0 }
  | { readonly kind: 'mounted'; readonly bytes: 0; readonly from: string }
  | { readonly kind: 'copied'; readonly bytes: number };

/** Callbacks on streamed blobs (the CLI's progress display). */
export interface BlobProgress {
  /** Called as bytes of a streamed blob pass through (`done` = bytes so far). */
  onBytes?(descriptor: Descriptor, done: number): void;
  onStart?(descriptor: Descriptor, destination: string): void;
  onEnd?(descriptor: Descriptor, outcome: BlobOutcome | undefined): void;
}

/** The outcome of a blob that was already at the destination. */
export const skipped: BlobOutcome = { kind: 'skipped', bytes: 0 };
