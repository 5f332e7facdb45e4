import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import type { ImageCheckpoint, ParkedUpload } from './blob-checkpoint.js';
import type { BlobOutcome } from './blob-outcome.js';
import type { BlobParking } from './blob-resumable.js';
import type { CopyResult, CopyTally } from './copy-outcome.js';
import { type DeadlineOptions, Parking } from './deadline.js';

/** What a copy that may outlive its invocation takes: the deadline, and the checkpoint of the last one. */
export interface ResumableCopyOptions {
  readonly deadline: DeadlineOptions;
  /** Where the previous invocation parked; none on the first. */
  readonly checkpoint?: ImageCheckpoint | undefined;
  /** Part size of chunked uploads (brought within each registry's rules; default 16 MiB). */
  readonly chunkSize?: number;
}

/** A resumable copy's end: finished (the image's result), or parked with what the next invocation needs. */
export type ResumableCopyResult =
  | ({ readonly status: 'copied' | 'skipped' } & CopyResult)
  | { readonly status: 'continue'; readonly checkpoint: ImageCheckpoint };

/**
 * One image copy's parking across invocations: the deadline the ladder checks, the parked
 * uploads it resumes, and the tally of blobs finished in earlier invocations (counted once).
 */
export class ImageParking implements BlobParking {
  readonly parking: Parking;
  readonly chunkSize?: number;
  readonly #previous: ImageCheckpoint | undefined;
  readonly #resume: Map<string, ParkedUpload>;
  readonly #done: Set<Digest>;
  readonly #parked = new Map<string, ParkedUpload | undefined>();
  readonly #notes: string[];

  constructor(options: ResumableCopyOptions) {
    this.parking = new Parking(options.deadline);
    if (options.chunkSize !== undefined) this.chunkSize = options.chunkSize;
    this.#previous = options.checkpoint;
    this.#resume = new Map(options.checkpoint?.uploads.map((u) => [u.digest, u]) ?? []);
    this.#done = new Set(options.checkpoint?.done ?? []);
    this.#notes = [...(options.checkpoint?.notes ?? [])];
  }

  parkedUpload(digest: Digest): ParkedUpload | undefined {
    return this.#resume.get(digest);
  }

  /** Whether some blob parked: nothing above it may be pushed in this invocation. */
  get parked(): boolean {
    return this.#parked.size > 0;
  }

  /** Records a blob's outcome; false when an earlier invocation counted the blob already. */
  settle(blob: Descriptor, outcome: BlobOutcome): boolean {
    if ('note' in outcome && outcome.note !== undefined && !this.#notes.includes(outcome.note))
      this.#notes.push(outcome.note);
    if (outcome.kind === 'parked') {
      this.#parked.set(blob.digest, outcome.upload);
      return true;
    }
    if (this.#done.has(blob.digest)) return false;
    this.#done.add(blob.digest);
    return true;
  }

  /** The checkpoint this invocation leaves: every tally so far, the blobs done, the uploads parked. */
  checkpoint(tally: CopyTally): ImageCheckpoint {
    const uploads = [...this.#parked.values()].filter((u): u is ParkedUpload => u !== undefined);
    const parkedDigests = new Set(this.#parked.keys());
    const totals = this.#totals(tally);
    return {
      version: 1,
      done: [...this.#done].filter((d) => !parkedDigests.has(d)),
      uploads,
      blobs: totals.blobs,
      bytes: totals.bytes,
      invocations: (this.#previous?.invocations ?? 0) + 1,
      notes: [...this.#notes],
    };
  }

  /** The finished image's result, with the blobs and bytes of every invocation it took. */
  finish(result: CopyResult, tally: CopyTally): CopyResult {
    if (this.#previous === undefined && this.#notes.length === 0) return result;
    const totals = this.#totals(tally);
    return {
      ...result,
      ...totals,
      resumed: { invocations: (this.#previous?.invocations ?? 0) + 1, notes: [...this.#notes] },
    };
  }

  #totals(tally: CopyTally): Pick<CopyResult, 'blobs' | 'bytes'> {
    const before = this.#previous;
    return {
      blobs: {
        copied: (before?.blobs.copied ?? 0) + tally.blobs.copied,
        mounted: (before?.blobs.mounted ?? 0) + tally.blobs.mounted,
        skipped: (before?.blobs.skipped ?? 0) + tally.blobs.skipped,
      },
      bytes: (before?.bytes ?? 0) + tally.bytes,
    };
  }
}
