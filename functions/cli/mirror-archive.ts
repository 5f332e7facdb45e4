import { resolve } from 'node:path';
import { ArchiveReader } from '../mirror/archive/archive-reader.js';
import { ArchiveWriter } from '../mirror/archive/archive-writer.js';
import {
  type ArchiveItem,
  type ArchiveRunOptions,
  pushArchive,
  writeArchive,
} from '../mirror/archive/archive-mirror.js';
import { parseArchiveSize } from '../mirror/archive/format.js';
import { formatBytes } from '../mirror/format.js';
import type { ImageSet } from '../mirror/image-set/document.js';
import { expandImageSetContent } from '../mirror/image-set/expand.js';
import type { MirrorResult } from '../mirror/mirror.js';
import type { WorkspaceEntry } from '../mirror/workspace/entry.js';
import { writeWorkspace } from '../mirror/workspace/workspace.js';
import { UsageError } from '../oci/errors.js';
import { type Platform, parsePlatform } from '../oci/manifest.js';
import { parseImageReference } from '../oci/reference.js';
import { createCliLogger } from './log.js';
import { type MirrorConfigFlags, readImageSet, type ResultPrinter } from './mirror-config.js';
import { defaultWorkspace } from './options.js';
import { createRuntime } from './runtime.js';
import { setSources, sourceRegistries } from './set-sources.js';

/**
 * The registry the set is expanded against for an archive: destinations are recorded relative
 * to it (`.invalid` never resolves: nothing is ever sent there).
 */
const archiveTarget = 'ferry-archive.invalid';

/** oc-mirror's default `archiveSize` is 4 GiB; Ferry's too. */
const defaultArchiveSize = 4 * 1024 ** 3;

/** `file://DIR` as a directory; undefined for anything else. */
export function archiveDir(location: string | undefined): string | undefined {
  return location?.startsWith('file://') ? resolve(location.slice('file://'.length)) : undefined;
}

/**
 * `ferry mirror --config FILE --to file://DIR [--archive-size SIZE]` (issue 12, "Pinned: archives"):
 * expands the set and writes its images into DIR's parts (only what earlier runs in DIR did not
 * ship). Returns the exit code: 1 when any image failed.
 */
export async function runMirrorToArchive(
  flags: MirrorConfigFlags & { readonly archiveSize?: string },
  dir: string,
  print: ResultPrinter,
): Promise<number> {
  const set = await readImageSet(flags.config);
  const partSize = archiveSize(flags, set);
  // One blob at a time: the parts take one entry at a time, and a source stream left waiting for
  // its turn would trip --idle-timeout and --min-rate.
  const runtime = await createRuntime({ ...flags, blobConcurrency: 1 }, createCliLogger(flags.debug === true), {
    source: sourceRegistries(set),
    destination: [],
  });
  const started = Date.now();
  const warn = (message: string): boolean => process.stderr.write(`ferry: warning: ${message}\n`);
  try {
    const { images, artifacts } = await expandImageSetContent(
      set,
      setSources(runtime),
      { registry: archiveTarget },
      {
        onHelm: (helm) => {
          if (helm.charts.length > 0) warn(`${helm.charts.length} Helm charts are not written to archives yet`);
        },
      },
    );
    if (artifacts.length > 0) warn(`${artifacts.length} operator catalogs are not written to archives yet`);
    const items = images
      .filter((i) => i.blocked !== true)
      .map((image): ArchiveItem => {
        const source = parseImageReference(image.source);
        const destination = parseImageReference(image.destination);
        const relative = image.destination.slice(`${archiveTarget}/`.length);
        const platforms = image.platforms?.map(parsePlatform);
        return {
          source: runtime.registries.image({ kind: 'registry', ref: source }, 'source'),
          sourceName: image.source,
          destination: relative,
          path: destination.repository,
          reference: destination.digest ?? destination.tag ?? 'latest',
          byDigest: image.byDigest,
          ...(platforms === undefined ? {} : { platforms }),
        };
      });
    const writer = await ArchiveWriter.open(dir, { partSize, imageSet: set, warn });
    const { index, results } = await writeArchive(items, writer, runtime.copier, runOptions(flags), (r) =>
      process.stdout.write(`${print(r)}\n`),
    );
    const failed = results.filter((r) => r.status === 'failed').length;
    const bytes = Object.values(index.blobs).reduce((sum, b) => sum + b.size, 0);
    process.stderr.write(
      `${results.length} images: ${results.length - failed} archived, ${failed} failed; ${formatBytes(bytes)} in ${index.parts.length} parts (${index.parts.map((p) => p.name).join(', ')})${index.buildsOn.length === 0 ? '' : `, building on ${index.buildsOn.length} earlier parts`} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${dir}\n`,
    );
    return failed > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}

/** `ferry mirror --from file://DIR` flags: where to, and the copy flags. */
export type ArchivePushFlags = Omit<MirrorConfigFlags, 'config'>;

/**
 * `ferry mirror --from file://DIR --to REGISTRY[/PREFIX]`: checks DIR's archive (every part
 * there, earlier content at the destination), pushes its images and writes the workspace
 * (mapping.txt, IDMS/ITMS) as a registry-to-registry run does.
 */
export async function runArchiveToMirror(flags: ArchivePushFlags, dir: string, print: ResultPrinter): Promise<number> {
  const reader = await ArchiveReader.open(dir);
  const to = flags.to.replace(/\/+$/, '');
  const runtime = await createRuntime(flags, createCliLogger(flags.debug === true), {
    source: [],
    destination: [to.split('/')[0]!],
  });
  const started = Date.now();
  try {
    const destination = (relative: string): string => `${to}/${relative}`;
    const results = await pushArchive(
      reader,
      (image) =>
        runtime.registries.image(
          { kind: 'registry', ref: parseImageReference(destination(image.destination)) },
          'destination',
        ),
      runtime.copier,
      runOptions(flags),
      (r) => process.stdout.write(`${print(r)}\n`),
    );
    const workspace = flags.workspace ?? defaultWorkspace;
    const entries = reader.index.images.map((image, i): WorkspaceEntry => {
      const result: MirrorResult = results[i]!;
      const base = {
        source: image.source,
        destination: destination(image.destination),
        byDigest: image.byDigest === true,
      };
      return result.status === 'failed' ? { ...base, error: result.error } : { ...base, digest: result.digest };
    });
    await writeWorkspace(workspace, { entries });
    const failed = results.filter((r) => r.status === 'failed').length;
    const copied = results.filter((r) => r.status === 'copied').length;
    const bytes = results.reduce((sum, r) => sum + (r.status === 'failed' ? 0 : r.bytes), 0);
    process.stderr.write(
      `${results.length} images: ${copied} copied, ${results.length - copied - failed} skipped, ${failed} failed; ${formatBytes(bytes)} moved in ${((Date.now() - started) / 1000).toFixed(1)} s; workspace ${workspace}\n`,
    );
    return failed > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}

function runOptions(flags: ArchivePushFlags): ArchiveRunOptions {
  const platforms: readonly Platform[] = flags.platforms;
  return {
    referrers: flags.referrers === true,
    includeForeignLayers: flags.includeForeignLayers === true,
    concurrency: flags.concurrency,
    platforms,
  };
}

/** `--archive-size`, else the set's `archiveSize` (GiB, as oc-mirror's), else 4 GiB. */
function archiveSize(flags: { readonly archiveSize?: string }, set: ImageSet): number {
  if (flags.archiveSize !== undefined) {
    const size = parseArchiveSize(flags.archiveSize);
    if (size === undefined)
      throw new UsageError(`--archive-size ${flags.archiveSize}: not a size such as 500MiB, 2GiB or 1GB`);
    return size;
  }
  return set.archiveSize === undefined ? defaultArchiveSize : Math.floor(set.archiveSize * 1024 ** 3);
}
