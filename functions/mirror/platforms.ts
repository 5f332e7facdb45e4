import { z } from 'zod';
import { readVerifiedBlob } from '../oci/blob-read.js';
import { ManifestInvalidError, NotFoundError } from '../oci/errors.js';
import {
  formatPlatform,
  type ImageManifest,
  type Manifest,
  parseManifest,
  type Platform,
  platformMatches,
} from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import type { Repository } from '../oci/repository.js';

/** Config media types that carry `os`/`architecture` (an image's); any other config is an artifact's. */
const imageConfigTypes: readonly string[] = [MediaType.ociConfig, MediaType.dockerConfig];
/** Image configs are small JSON documents; a larger one is not read just to learn a platform. */
const maxConfigBytes = 4 * 1024 * 1024;
const configPlatform = z.looseObject({
  os: z.string().min(1),
  architecture: z.string().min(1),
  variant: z.string().optional(),
});

/**
 * The manifest to copy for the wanted platforms (all when none): an index narrowed to them — its
 * one platform's own manifest when one is wanted, a new index (new digest) when several are, the
 * index itself when all of its platforms are — or a single image whose config's platform matches.
 * A platform the source does not have fails with a {@link NotFoundError} naming what it has:
 * never a silent copy of another platform.
 */
export async function selectPlatforms(
  source: Repository,
  manifest: Manifest,
  platforms: readonly Platform[],
): Promise<Manifest> {
  if (platforms.length === 0) return manifest;
  if (manifest.kind === 'image') {
    const own = await imagePlatform(source, manifest.image);
    const missing = platforms.filter((p) => !platformMatches(own, p));
    if (missing.length > 0) {
      const has =
        own === undefined
          ? `it has no platform: an artifact, config ${manifest.image.config.mediaType}`
          : `available: ${formatPlatform(own)} only, not a multi-platform index`;
      throw noManifest(source, missing, has);
    }
    return manifest;
  }
  const entries = manifest.index.manifests;
  const selected = entries.filter((d) => platforms.some((p) => platformMatches(d.platform, p)));
  const missing = platforms.filter((p) => !selected.some((d) => platformMatches(d.platform, p)));
  if (missing.length > 0)
    throw noManifest(source, missing, `available: ${entries.map((d) => formatPlatform(d.platform)).join(', ')}`);
  if (selected.length === 1) return source.getManifest(selected[0]!.digest);
  // Every entry wanted: the index as it is, digest preserved.
  if (selected.length === entries.length) return manifest;
  const bytes = Buffer.from(JSON.stringify({ ...manifest.index, manifests: selected }));
  const filtered = parseManifest(bytes, manifest.mediaType);
  if (filtered.kind !== 'index') throw new ManifestInvalidError('platform filtering produced a non-index');
  return filtered;
}

/**
 * The digest {@link selectPlatforms} returns when it picks one platform's own manifest out of an
 * index, read from the index alone (no GET of the child); undefined in every other case. Lets an
 * up-to-date check compare digests before reading the child.
 */
export function pickedDigest(manifest: Manifest, platforms: readonly Platform[]): string | undefined {
  if (platforms.length === 0 || manifest.kind !== 'index') return undefined;
  const selected = manifest.index.manifests.filter((d) => platforms.some((p) => platformMatches(d.platform, p)));
  const complete = platforms.every((p) => selected.some((d) => platformMatches(d.platform, p)));
  return complete && selected.length === 1 ? selected[0]!.digest : undefined;
}

function noManifest(source: Repository, missing: readonly Platform[], has: string): NotFoundError {
  return new NotFoundError(`${source.display}: no manifest for ${missing.map(formatPlatform).join(', ')} (${has})`, {
    registry: source.registry ?? source.display,
    repository: source.name,
  });
}

/**
 * The platform a single image manifest is for, read from its config blob (digest-checked);
 * undefined for an artifact (a config that is not an image config, or has no `os`/`architecture`).
 */
export async function imagePlatform(source: Repository, image: ImageManifest): Promise<Platform | undefined> {
  const { config } = image;
  if (!imageConfigTypes.includes(config.mediaType) || config.size > maxConfigBytes) return undefined;
  const bytes = await readVerifiedBlob(source, config);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = configPlatform.safeParse(json);
  if (!parsed.success) return undefined;
  const { os, architecture, variant } = parsed.data;
  return { os, architecture, ...(variant === undefined || variant === '' ? {} : { variant }) };
}
