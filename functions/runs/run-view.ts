import type { ImageRecord, ImageStatus, RunRecord } from './model.js';

/** The run as `GET /v1/runs/{runId}` shows it (pinned shape). */
export interface RunView {
  runId: string;
  status: RunRecord['status'];
  startTime: string;
  endTime: string | null;
  totalImages: number;
  imagesProcessed: number;
  imagesFailed: number;
  bytesCopied: number;
  message?: string;
  /** A run of an image set: the stored set's name and version (neither for an inline document). */
  imageSet?: { name?: string; version?: number };
  /** `prune` for a prune run (absent: a copy). */
  action?: 'prune';
  /**
   * Where the images are paged (`/v1/runs/{id}/images`): set, with `images` empty, on a run of
   * more than 1,000 images (or whose images would not fit one response).
   */
  imagesUrl?: string;
  images?: Record<
    string,
    {
      source: string;
      /** A prune run's tags are `would-delete` (dry run) or `deleted`. */
      status: ImageStatus | NonNullable<ImageRecord['prune']>;
      message?: string;
      startTime?: string;
      endTime?: string;
      digest?: string;
      bytes?: number;
      /** How many copy-task invocations the image took (added in issue 11; absent before its first). */
      invocations?: number;
    }
  >;
}

/** The run as listings and the start/cancel answers show it: no images. */
export function toView(run: RunRecord): RunView {
  return {
    runId: run.runId,
    status: run.status,
    startTime: run.startTime,
    endTime: run.endTime,
    totalImages: run.totalImages,
    imagesProcessed: run.imagesProcessed,
    imagesFailed: run.imagesFailed,
    bytesCopied: run.bytesCopied,
    ...(run.message === undefined ? {} : { message: run.message }),
    ...(run.options.imageSet === undefined ? {} : { imageSet: { ...run.options.imageSet } }),
    ...(run.options.action === undefined ? {} : { action: run.options.action }),
  };
}

/** One image as `GET /v1/runs/{runId}` shows it. */
export function imageView(image: ImageRecord): NonNullable<RunView['images']>[string] {
  const { source, status, message, startTime, endTime, digest, bytes, prune, invocations } = image;
  return {
    source,
    status: prune ?? status,
    ...(message === undefined ? {} : { message }),
    ...(startTime ? { startTime } : {}),
    ...(endTime ? { endTime } : {}),
    ...(digest ? { digest } : {}),
    ...(bytes === undefined ? {} : { bytes }),
    ...(invocations === undefined ? {} : { invocations }),
  };
}
