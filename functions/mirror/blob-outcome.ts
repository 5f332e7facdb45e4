import type { Descriptor } from '../oci/manifest.js';
import type { ParkedUpload } from './blob-checkpoint.js';

/**
 * What happened to one blob: the ladder's outcome, a value, not an exception. `parked`: the
 * deadline came first — `upload` is where its session stands (none when nothing was sent yet);
 * `bytes` are those moved in this invocation. `note`: what the image's message should say.
 */
export type BlobOutcome =
  | { readonly kind: 'skipped'; readonly bytes: 0 }
  | { readonly kind: 'mounted'; readonly bytes: 0; readonly from: string }
  | { readonly kind: 'copied'; readonly bytes: number; readonly note?: string }
  | { readonly kind: 'parked'; readonly bytes: number; readonly upload?: ParkedUpload; readonly note?: string };

/** Callbacks on streamed blobs (the CLI's progress display). */
export interface BlobProgress {
  /** Called as bytes of a streamed blob pass through (`done` = bytes so far). */
  onBytes?(descriptor: Descriptor, done: number): void;
  onStart?(descriptor: Descriptor, destination: string): void;
  onEnd?(descriptor: Descriptor, outcome: BlobOutcome | undefined): void;
}

/** The outcome of a blob that was already at the destination. */
export const skipped: BlobOutcome = { kind: 'skipped', bytes: 0 };
