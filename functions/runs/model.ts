/** Run and image state as the API reports it (pinned shapes, see DESIGN.md). */
export const runStatuses = ['in-progress', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof runStatuses)[number];

export const imageStatuses = ['pending', 'in-progress', 'completed', 'skipped', 'failed'] as const;
export type ImageStatus = (typeof imageStatuses)[number];

/** Image states a copy may still move from; everything else is final. */
export const openImageStatuses: readonly ImageStatus[] = ['pending', 'in-progress'];

/**
 * Where a credential lives: a Secrets Manager ARN, or (for `ferry serve` and run-scoped secrets)
 * a reference the credential vault resolves. Never the credential itself.
 */
export interface CredentialRef {
  readonly secretArn: string;
}

/** A run's options as stored: everything of the request but the images and any secret. */
export interface RunOptions {
  readonly destination: {
    readonly registry: string;
    readonly prefix?: string;
    readonly insecure: boolean;
    readonly credentials?: CredentialRef;
    /** An IAM role to assume for the destination (another account's ECR); not a secret. */
    readonly roleArn?: string;
  };
  readonly sourceCredentials: Readonly<Record<string, CredentialRef>>;
  readonly platforms: readonly string[];
  readonly referrers: boolean;
  readonly override: boolean;
  readonly failFast: boolean;
  readonly dryRun: boolean;
  /** Set for runs a schedule started. */
  readonly schedule?: string;
}

export interface RunRecord {
  readonly runId: string;
  readonly status: RunStatus;
  readonly startTime: string;
  readonly endTime: string | null;
  readonly totalImages: number;
  readonly imagesProcessed: number;
  readonly imagesFailed: number;
  readonly bytesCopied: number;
  readonly options: RunOptions;
  readonly message?: string;
  readonly executionId?: string;
}

export interface ImageRecord {
  readonly runId: string;
  readonly index: number;
  readonly source: string;
  readonly destination: string;
  readonly status: ImageStatus;
  readonly message?: string;
  readonly startTime?: string;
  readonly endTime?: string;
  readonly digest?: string;
  readonly bytes?: number;
}

/** The final run status: `failed` when any image failed, else `completed`. */
export function finalStatus(
  images: readonly Pick<ImageRecord, 'status'>[],
): Extract<RunStatus, 'completed' | 'failed'> {
  return images.some((i) => i.status === 'failed') ? 'failed' : 'completed';
}

/** Counts over a run's images: the finished ones, the failed ones, the bytes copied. */
export function countImages(images: readonly Pick<ImageRecord, 'status' | 'bytes'>[]): {
  imagesProcessed: number;
  imagesFailed: number;
  bytesCopied: number;
} {
  const done = images.filter((i) => !openImageStatuses.includes(i.status));
  return {
    imagesProcessed: done.length,
    imagesFailed: done.filter((i) => i.status === 'failed').length,
    bytesCopied: done.reduce((n, i) => n + (i.bytes ?? 0), 0),
  };
}
