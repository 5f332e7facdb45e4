import { z } from 'zod';

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
export const credentialRefSchema = z.object({ secretArn: z.string() }).readonly();
export type CredentialRef = z.infer<typeof credentialRefSchema>;

/** A run's options as stored: everything of the request but the images and any secret. */
export const runOptionsSchema = z
  .object({
    destination: z
      .object({
        registry: z.string(),
        prefix: z.string().optional(),
        insecure: z.boolean(),
        credentials: credentialRefSchema.optional(),
        /** An IAM role to assume for the destination (another account's ECR); not a secret. */
        roleArn: z.string().optional(),
      })
      .readonly(),
    sourceCredentials: z.record(z.string(), credentialRefSchema).readonly(),
    platforms: z.array(z.string()).readonly(),
    referrers: z.boolean(),
    override: z.boolean(),
    failFast: z.boolean(),
    dryRun: z.boolean(),
    /** Set for runs a schedule started. */
    schedule: z.string().optional(),
    /**
     * Set for runs of an image set: the stored set's name and version, or neither for a document
     * sent inline. The document itself is the run's own item (RunStore.getRunDocument).
     */
    imageSet: z.object({ name: z.string().optional(), version: z.number().optional() }).readonly().optional(),
    /** `prune`: the run deletes the destination tags its set no longer selects (absent: a copy). */
    action: z.literal('prune').optional(),
  })
  .readonly();
export type RunOptions = z.infer<typeof runOptionsSchema>;

/** The run record: the one definition of what a store holds for a run (the type is inferred from it). */
export const runRecordSchema = z
  .object({
    runId: z.string(),
    status: z.enum(runStatuses),
    startTime: z.string(),
    endTime: z.string().nullable(),
    totalImages: z.number(),
    imagesProcessed: z.number(),
    imagesFailed: z.number(),
    bytesCopied: z.number(),
    options: runOptionsSchema,
    message: z.string().optional(),
    executionId: z.string().optional(),
  })
  .readonly();
export type RunRecord = z.infer<typeof runRecordSchema>;

/**
 * What a dry run found for one image, as data: `copy` when a copy would move `blobs` blobs
 * (`bytes` in all), `skip` when the destination is up to date or its tag is kept. The optional
 * counts are what the plan JSON (`GET /v1/runs/{id}/plan`) shows per image; records written
 * before they existed stay valid and read as zero.
 */
export const dryRunResultSchema = z
  .object({
    action: z.enum(['copy', 'skip']),
    blobs: z.number(),
    bytes: z.number(),
    /** Of `blobs`, those a copy would mount from another repository of the destination registry. */
    mount: z.number().optional(),
    /** The bytes of the `mount` blobs (counted in `bytes` too): a mount moves none of them. */
    mountBytes: z.number().optional(),
    /** Blobs the destination already has. */
    present: z.number().optional(),
    /** Manifest GETs the assessment made at the source (what Docker Hub counts as pulls). */
    manifestGets: z.number().optional(),
    /** The source's pull budget as the assessment left it, when the registry reported one (issue 11). */
    pullBudget: z.object({ remaining: z.number(), limit: z.number(), windowMs: z.number() }).readonly().optional(),
  })
  .readonly();
export type DryRunResult = z.infer<typeof dryRunResultSchema>;

/**
 * A generated artifact an image item stands for (issue 10), re-derived by the task that pushes it
 * from these inputs (nothing generated is stored): a Helm chart (`source` is its `.tgz` URL, the
 * bytes must hash to `sha256`), or the rebuilt catalog of `mirror.operators[operator]` (read at
 * `sourceDigest`; pushed by Finish, after every image it names).
 */
export const imageArtifactSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('chart'),
    url: z.string(),
    sha256: z.string(),
    name: z.string(),
    version: z.string(),
  }),
  z.object({ kind: z.literal('catalog'), operator: z.number(), sourceDigest: z.string() }),
]);
export type ImageArtifact = z.infer<typeof imageArtifactSchema>;

/** One image of a run: its source, its destination, where its copy stands. */
export const imageRecordSchema = z
  .object({
    runId: z.string(),
    index: z.number(),
    source: z.string(),
    destination: z.string(),
    status: z.enum(imageStatuses),
    message: z.string().optional(),
    startTime: z.string().optional(),
    endTime: z.string().optional(),
    digest: z.string().optional(),
    bytes: z.number().optional(),
    /** How many times the workflow invoked the copy task for this image (retries and resumptions included). */
    invocations: z.number().optional(),
    /**
     * Where a copy parked before its Lambda deadline (JSON of mirror/blob-checkpoint.ts's
     * ImageCheckpoint: upload sessions, hash states, blobs done; never a credential): the next
     * invocation resumes from it. Cleared when the image ends. Never shown in run views.
     */
    checkpoint: z.string().optional(),
    /** Set on the images of a dry run: what a copy would do (the run's summary counts these). */
    dryRun: dryRunResultSchema.optional(),
    /** An image set's image that matched `blockedImages`: recorded `skipped`, never copied. */
    blocked: z.literal(true).optional(),
    /** The platforms its set entry names (`os/arch[/variant]`); absent: the run's. */
    platforms: z.array(z.string()).readonly().optional(),
    /** An OpenShift release image (`mirror.platform`): its signatures are fetched once it is mirrored. */
    release: z.literal(true).optional(),
    /** A release image's signatures (base64), from the signature store: `/cluster-resources` carries them as ConfigMaps. */
    signatures: z.array(z.string()).readonly().optional(),
    /** A prune run's tag: planned for deletion (a dry run), or deleted. */
    prune: z.enum(['would-delete', 'deleted']).optional(),
    /** Set on an item that is a generated artifact (a chart, a rebuilt catalog), not an image copy. */
    artifact: imageArtifactSchema.optional(),
  })
  .readonly();
export type ImageRecord = z.infer<typeof imageRecordSchema>;

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
