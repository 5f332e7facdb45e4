import { z } from 'zod';
import { FerryError } from '../../oci/errors.js';

/** The index beside the parts (a copy is the last part's last entry). */
export const archiveIndexFile = 'ferry-archive.json';
/** What every run in the directory shipped: incremental runs write only the rest. */
export const historyFile = 'ferry-history.json';
/** The first entry of every part: which archive it belongs to. */
export const partIdentEntry = 'ferry/part.json';
/** The index's entry name inside the last part. */
export const indexEntry = 'ferry/archive.json';

/** `mirror_000001.tar` for part 1. */
export function partName(n: number): string {
  return `mirror_${String(n).padStart(6, '0')}.tar`;
}

/** `blobs/sha256/<hex>`: the OCI-layout path of a blob inside a part. */
export function blobEntryName(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

/** An archive that is incomplete or does not match its index: refused before anything is pushed. */
export class ArchiveError extends FerryError {
  override readonly name = 'ArchiveError';
  readonly code = 'ARCHIVE_INVALID';
}

const digest = z.string().regex(/^sha(256|512):[a-f0-9]+$/);

const blobLocation = z.object({
  part: z.string(),
  /** Where the blob's bytes start in the part (after its tar header). */
  offset: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  /** Set for manifests: read back with it. */
  mediaType: z.string().optional(),
});
export type BlobLocation = z.infer<typeof blobLocation>;

const shipped = z.object({
  digest,
  kind: z.enum(['blob', 'manifest']),
  part: z.string(),
  mediaType: z.string().optional(),
  size: z.number().int().nonnegative(),
});
/** Content an image needs that an earlier archive of the directory shipped. */
export type Shipped = z.infer<typeof shipped>;

const archivedImage = z.object({
  source: z.string(),
  /** Relative to the target: `REGISTRY[/PREFIX]/<destination>` at disk-to-mirror. */
  destination: z.string(),
  byDigest: z.boolean().optional(),
  digest,
  mediaType: z.string(),
  platforms: z.array(z.string()),
  /** What this image needs from earlier archives: the destination must hold it already. */
  earlier: z.array(shipped),
});
export type ArchivedImage = z.infer<typeof archivedImage>;

export const archiveIndexSchema = z.object({
  version: z.literal(1),
  archiveId: z.string(),
  created: z.string(),
  imageSet: z.unknown(),
  /** This archive's parts with their sizes (the last part's own copy of the index leaves its size out). */
  parts: z.array(z.object({ name: z.string(), size: z.number().int().nonnegative().optional() })),
  /** Earlier parts this archive builds on (incremental runs). */
  buildsOn: z.array(z.string()),
  blobs: z.record(z.string(), blobLocation),
  images: z.array(archivedImage),
});
export type ArchiveIndex = z.infer<typeof archiveIndexSchema>;

export const historySchema = z.object({
  version: z.literal(1),
  parts: z.array(z.string()),
  shipped: z.record(z.string(), shipped.omit({ digest: true })),
});
export type History = z.infer<typeof historySchema>;

export const partIdentSchema = z.object({ archiveId: z.string(), part: z.string() });

const sizeUnits: Record<string, number> = {
  '': 1024 ** 3,
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * `--archive-size`: `500MiB`, `2GiB`, `1GB`; a bare number is GiB as oc-mirror's `archiveSize`.
 * Undefined when the value is not a size.
 */
export function parseArchiveSize(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = sizeUnits[match?.[2]?.toLowerCase() ?? 'none'];
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}
