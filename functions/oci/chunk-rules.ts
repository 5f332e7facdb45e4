import { parseEcrHost } from './ecr-host.js';

/** The part sizes a registry accepts for a chunked upload (`PATCH` with `Content-Range`). */
export interface ChunkRules {
  /** Smallest part but the last, in bytes. */
  readonly minPart: number;
  /** Largest part, in bytes. */
  readonly maxPart: number;
}

const MiB = 1024 * 1024;

/**
 * ECR: every part but the last at least 5 MiB (`LayerPartTooSmallException`), none over
 * 20,971,520 bytes (UploadLayerPart's `layerPartBlob` limit, which its distribution API's PATCH
 * maps onto).
 */
export const ecrChunkRules: ChunkRules = { minPart: 5 * MiB, maxPart: 20 * MiB };

/** Other registries (distribution, Harbor, Quay): any part size; capped so that one part fits in memory. */
export const defaultChunkRules: ChunkRules = { minPart: 1, maxPart: 256 * MiB };

/** Part size when none is asked for: within ECR's rules, and a few seconds of transfer. */
export const defaultChunkSize = 16 * MiB;

/** The rules of `registry`'s upload sessions. */
export function chunkRulesFor(registry: string): ChunkRules {
  return parseEcrHost(registry) ? ecrChunkRules : defaultChunkRules;
}

/** `wanted` (default {@link defaultChunkSize}) brought within `rules`: the size of every part but the last. */
export function chunkSizeWithin(rules: ChunkRules, wanted: number = defaultChunkSize): number {
  return Math.min(rules.maxPart, Math.max(rules.minPart, Math.floor(wanted)));
}
