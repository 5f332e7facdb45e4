import { parseDigest } from '../../oci/digest.js';
import { describeError } from '../../oci/errors.js';
import { formatPlatform, type Platform } from '../../oci/manifest.js';
import type { RepositoryRef } from '../../oci/repository.js';
import type { CopyOptions, ImageCopier } from '../copy-image.js';
import { Limiter } from '../limiter.js';
import type { MirrorResult } from '../mirror.js';
import { ArchiveDestination } from './archive-destination.js';
import type { ArchiveReader } from './archive-reader.js';
import { ArchiveSource } from './archive-source.js';
import type { ArchiveWriter } from './archive-writer.js';
import { ArchiveError, type ArchivedImage, type ArchiveIndex, type Shipped } from './format.js';

/** One image of a set to write into an archive. */
export interface ArchiveItem {
  readonly source: RepositoryRef;
  /** The source as the set names it, for the index and the workspace. */
  readonly sourceName: string;
  /** The destination relative to the target (`ns/name:tag`, `ns/name@sha256:…`). */
  readonly destination: string;
  /** Its repository path and tag or digest. */
  readonly path: string;
  readonly reference: string;
  readonly byDigest: boolean;
  readonly platforms?: readonly Platform[];
}

/** How many images are copied at once, and the copier's own options. */
export interface ArchiveRunOptions extends CopyOptions {
  readonly concurrency?: number;
}

/**
 * Mirror-to-disk: every image through the copier into the archive (one code path with registry
 * copies: the copier walks indexes, platforms and referrers), then the index. Failed images are
 * left out of the index; their blobs stay in the parts (harmless, shipped once).
 */
export async function writeArchive(
  items: readonly ArchiveItem[],
  writer: ArchiveWriter,
  copier: ImageCopier,
  options: ArchiveRunOptions,
  onResult: (result: MirrorResult) => void,
): Promise<{ index: ArchiveIndex; results: MirrorResult[] }> {
  const archived: (ArchivedImage | undefined)[] = [];
  const limiter = new Limiter(options.concurrency ?? 4);
  const results = await Promise.all(
    items.map((item, i) =>
      limiter.run(async (): Promise<MirrorResult> => {
        const destination = new ArchiveDestination(writer, item.path);
        const platforms = item.platforms ?? options.platforms ?? [];
        const result = await guard(item.source.repository.display, destination.display, () =>
          copier.copy(item.source, { repository: destination, reference: item.reference }, { ...options, platforms }),
        );
        if (result.status !== 'failed')
          archived[i] = {
            source: item.sourceName,
            destination: item.destination,
            byDigest: item.byDigest,
            digest: result.digest,
            mediaType: result.mediaType,
            platforms: platforms.map(formatPlatform),
            earlier: destination.earlier,
          };
        onResult(result);
        return result;
      }),
    ),
  );
  const index = await writer.finish(archived.filter((a): a is ArchivedImage => a !== undefined));
  return { index, results };
}

/**
 * Disk-to-mirror: first checks that the destination holds what earlier archives shipped (HEADs;
 * an ArchiveError names what is missing and nothing is pushed), then copies every image from
 * the parts. `target(image)` is the image's destination repository and tag or digest.
 */
export async function pushArchive(
  reader: ArchiveReader,
  target: (image: ArchivedImage) => RepositoryRef,
  copier: ImageCopier,
  options: ArchiveRunOptions,
  onResult: (result: MirrorResult) => void,
): Promise<MirrorResult[]> {
  const { images } = reader.index;
  const missing = (await Promise.all(images.map((image) => missingEarlier(target(image), image.earlier)))).flat();
  if (missing.length > 0)
    throw new ArchiveError(
      `the destination lacks content of earlier archives: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}; push those archives first; nothing pushed`,
    );
  const limiter = new Limiter(options.concurrency ?? 4);
  return Promise.all(
    images.map((image) =>
      limiter.run(async () => {
        const to = target(image);
        const source = new ArchiveSource(reader, image.destination.replace(/[:@].*$/, ''));
        const result = await guard(source.display, to.repository.display, () =>
          copier.copy({ repository: source, reference: image.digest }, to, { ...options, platforms: [] }),
        );
        onResult(result);
        return result;
      }),
    ),
  );
}

/** Earlier content the destination repository does not hold, as `digest (mirror_000001.tar)`. */
async function missingEarlier(to: RepositoryRef, earlier: readonly Shipped[]): Promise<string[]> {
  const { repository } = to;
  const present = await Promise.all(
    earlier.map(async (e) =>
      e.kind === 'manifest'
        ? (await repository.headManifest(e.digest))?.digest === e.digest
        : repository.headBlob({ digest: parseDigest(e.digest), size: e.size, mediaType: 'application/octet-stream' }),
    ),
  );
  return earlier.filter((_, i) => !present[i]).map((e) => `${repository.display} ${e.digest} (${e.part})`);
}

async function guard(source: string, destination: string, copy: () => Promise<MirrorResult>): Promise<MirrorResult> {
  try {
    return await copy();
  } catch (err) {
    return { source, destination, status: 'failed', error: describeError(err) };
  }
}
