import { z } from 'zod';
import { type Digest, isDigest } from '../oci/digest.js';

/**
 * One blob parked mid-upload: enough for another process to go on with it. The upload's
 * `location` is the registry's own session id (registry-relative path and query, as it gave it);
 * a checkpoint never holds credentials or an `Authorization`.
 */
export interface ParkedUpload {
  readonly digest: Digest;
  readonly size: number;
  /** The session's latest Location (a stale one cancels the session on distribution). */
  readonly location: string;
  /** Bytes the session holds, all hashed into `hash`. */
  readonly offset: number;
  /** The SHA-256 (or SHA-512) state after `offset` bytes, base64 (`ResumableHash.save`). */
  readonly hash: string;
  /** Whether this blob already restarted from 0 once after its session was lost. */
  readonly restarted: boolean;
}

/** An image copy parked at a deadline: what the next invocation resumes from. */
export interface ImageCheckpoint {
  readonly version: 1;
  /** Blobs finished (copied, mounted or found) in earlier invocations: counted in `blobs`/`bytes` already. */
  readonly done: readonly Digest[];
  /** Blobs parked mid-upload. */
  readonly uploads: readonly ParkedUpload[];
  /** Blob counts and bytes moved by the invocations so far. */
  readonly blobs: { readonly copied: number; readonly mounted: number; readonly skipped: number };
  readonly bytes: number;
  /** Invocations that ended parked so far. */
  readonly invocations: number;
  /** What happened on the way that the image's message should say (a lost session restarted). */
  readonly notes: readonly string[];
}

const digest = z
  .string()
  .refine(isDigest, 'not a digest')
  .transform((d) => d as Digest);
const count = z.number().int().nonnegative();

const checkpointSchema = z.object({
  version: z.literal(1),
  done: z.array(digest),
  uploads: z.array(
    z.object({
      digest,
      size: count,
      // Registry-relative, or another origin's URL: never with user-info.
      location: z
        .string()
        .min(1)
        .refine((l) => !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(l), 'location with user-info'),
      offset: count,
      hash: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
      restarted: z.boolean(),
    }),
  ),
  blobs: z.object({ copied: count, mounted: count, skipped: count }),
  bytes: count,
  invocations: count,
  notes: z.array(z.string()),
});

/**
 * A stored checkpoint, validated; undefined when it is not one (a store's damaged item): the copy
 * then starts over, which is safe because copies are keyed by digest.
 */
export function parseCheckpoint(value: unknown): ImageCheckpoint | undefined {
  const parsed = checkpointSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
