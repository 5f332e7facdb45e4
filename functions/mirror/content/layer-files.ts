import { posix } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type ExtractEvents } from 'tar-stream';
import { verifyDigest } from '../../oci/digest.js';
import { FerryError } from '../../oci/errors.js';
import type { Descriptor } from '../../oci/manifest.js';
import type { Repository } from '../../oci/repository.js';

// Reads chosen files out of image layers (release payloads, file-based catalogs): streamed, digest
// checked, gunzipped and untarred on the fly, each file capped. Whiteouts follow the OCI image spec
// (image-spec/layer.md "Whiteouts"): `.wh.NAME` hides NAME of lower layers, `.wh..wh..opq` hides
// every lower-layer entry of its directory.

/** The stable name of {@link LayerContentError}. */
export const layerContentErrorName = 'LayerContentError';

/** A layer Ferry cannot read for content: compression it does not read, a file over its cap, a broken tar. */
export class LayerContentError extends FerryError {
  override readonly name = layerContentErrorName;
  constructor(
    readonly code:
      | 'LAYER_COMPRESSION'
      | 'LAYER_FILE_TOO_LARGE'
      | 'LAYER_FILES_TOO_LARGE'
      | 'LAYER_TOO_MANY_ENTRIES'
      | 'LAYER_UNREADABLE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One entry of a layer that a caller asked for, or a whiteout (always reported, so layers apply in order). */
export type LayerEntry =
  | { readonly kind: 'file'; readonly path: string; readonly bytes: Buffer }
  /** `.wh.NAME`: `path` (and everything under it) of lower layers is gone. */
  | { readonly kind: 'whiteout'; readonly path: string }
  /** `.wh..wh..opq`: every lower-layer entry under the directory `path` ('' for the root) is gone. */
  | { readonly kind: 'opaque'; readonly path: string }
  /** A wanted path that is neither a regular file nor a directory here (a link, a device): it hides a lower file. */
  | { readonly kind: 'other'; readonly path: string };

export interface LayerFileOptions {
  /** Which files to read, by normalised path (`release-manifests/image-references`: no `./`, no leading `/`). */
  readonly want: (path: string) => boolean;
  /** Bytes a wanted file may have; a larger one fails the read (a hostile layer must not fill memory). */
  readonly maxFileBytes: number;
  /** Bytes of all wanted files of one layer together (many small files add up); default 256 MiB. */
  readonly maxTotalBytes?: number;
  /** Entries reported at most (files and whiteouts); default 100 000. */
  readonly maxEntries?: number;
  readonly signal?: AbortSignal;
}

const gzipTypes = /(\+gzip|\.tar\.gzip)$/;
const tarTypes = /(\.tar|\+tar)$/;
const defaultMaxTotalBytes = 256 * 1024 * 1024;

/** One tar entry as tar-stream (streamx) hands it: a header and a readable body. */
type Entry = ExtractEvents['entry'][1];

const opaqueMarker = '.wh..wh..opq';
const whiteoutPrefix = '.wh.';

/** `./a/b`, `/a/b/`, `a//b` → `a/b`; `''` for the root; `..` stops at the root (`../etc/x` → `etc/x`), as in a container. */
export function normalizeLayerPath(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+|\/+$/g, '');
}

/**
 * Streams one layer blob of `repository` and returns the wanted files and every whiteout, in tar
 * order. The blob passes the same digest verifier as a copy (`verifyDigest`): content that does
 * not hash to the descriptor fails with DigestMismatchError, after the whole blob was read, so no
 * entry of a wrong layer is ever returned. gzip layers are gunzipped; plain tar is read as it is;
 * zstd and unknown media types fail with a {@link LayerContentError}. Only wanted files are held
 * in memory, each at most `maxFileBytes`.
 */
export async function readLayerFiles(
  repository: Repository,
  layer: Descriptor,
  options: LayerFileOptions,
): Promise<LayerEntry[]> {
  const where = `layer ${layer.digest} of ${repository.display}`;
  const decompress = decompressorFor(layer.mediaType, where);
  const { body, offset } = await repository.openBlob(layer, 0);
  if (offset !== 0) {
    body.destroy();
    throw new LayerContentError('LAYER_UNREADABLE', `${where}: the registry served it from byte ${offset}`);
  }
  const verified = Readable.from(verifyDigest(body, layer.digest, layer.size), { objectMode: false });
  const extract = tarExtract();
  const stages: (Readable | Transform)[] = decompress === undefined ? [verified] : [verified, decompress];
  const done = pipeline([...stages, extract], options.signal ? { signal: options.signal } : {});
  // The loop below may stop first (a cap); the pipeline's failure is then the loop's to report.
  done.catch(() => undefined);
  const maxEntries = options.maxEntries ?? 100_000;
  const maxTotal = options.maxTotalBytes ?? defaultMaxTotalBytes;
  const out: LayerEntry[] = [];
  let total = 0;
  try {
    for await (const entry of extract) {
      const found = await readEntry(entry, options, where, maxTotal - total);
      if (found === undefined) continue;
      if (found.kind === 'file') total += found.bytes.length;
      if (out.length >= maxEntries)
        throw new LayerContentError('LAYER_TOO_MANY_ENTRIES', `${where}: more than ${maxEntries} entries to report`);
      out.push(found);
    }
    await done;
  } catch (err) {
    verified.destroy();
    extract.destroy();
    await done.catch(() => undefined);
    throw wrapTarError(err, where);
  }
  return out;
}

/** The entry as reported (or undefined: not wanted), its content read (capped) or drained. */
async function readEntry(
  entry: Entry,
  options: LayerFileOptions,
  where: string,
  remaining: number,
): Promise<LayerEntry | undefined> {
  const path = normalizeLayerPath(entry.header.name);
  const base = posix.basename(path);
  let found: LayerEntry | undefined;
  if (path === '') found = undefined;
  else if (base === opaqueMarker) found = { kind: 'opaque', path: parentOf(path) };
  else if (base.startsWith(whiteoutPrefix))
    found = { kind: 'whiteout', path: joinPath(parentOf(path), base.slice(whiteoutPrefix.length)) };
  else if (options.want(path)) {
    const type = entry.header.type;
    // A directory merges with the ones below; a link or device at a wanted path replaces the file.
    if (type === 'directory') found = undefined;
    else if (type !== 'file' && type !== 'contiguous-file') found = { kind: 'other', path };
    else {
      const size = entry.header.size;
      if (size > options.maxFileBytes)
        throw new LayerContentError(
          'LAYER_FILE_TOO_LARGE',
          `${where}: ${path} has ${size} bytes, more than the ${options.maxFileBytes} allowed`,
        );
      if (size > remaining)
        throw new LayerContentError(
          'LAYER_FILES_TOO_LARGE',
          `${where}: ${path} takes the wanted files past ${options.maxTotalBytes ?? defaultMaxTotalBytes} bytes`,
        );
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      return { kind: 'file', path, bytes: Buffer.concat(chunks) };
    }
  }
  // Unwanted (or content-less) entries are drained: tar-stream moves on only when an entry is consumed.
  for await (const _ of entry as AsyncIterable<unknown>);
  return found;
}

function decompressorFor(mediaType: string, where: string): Transform | undefined {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd'))
    throw new LayerContentError('LAYER_COMPRESSION', `${where}: zstd layers (${mediaType}) are not read by Ferry yet`);
  if (gzipTypes.test(mediaType)) return createGunzip();
  if (tarTypes.test(mediaType)) return undefined;
  throw new LayerContentError('LAYER_COMPRESSION', `${where}: media type ${mediaType} is not a tar layer`);
}

/** Digest mismatches, aborts and our own errors pass as they are; zlib and tar failures say which layer. */
function wrapTarError(err: unknown, where: string): unknown {
  if (err instanceof FerryError || (err instanceof Error && err.name === 'AbortError')) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new LayerContentError('LAYER_UNREADABLE', `${where}: not a readable tar: ${why}`, { cause: err });
}

function parentOf(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}

function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** Whether `path` is `dir` or lies under it ('' is the root: everything). */
function isUnder(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * The final view of the wanted files after applying `layers` (each a {@link readLayerFiles}
 * result), lowest first, as a container runtime would: a layer's whiteouts and opaque markers
 * hide what the layers below it hold, then its own entries are laid on top.
 */
export function applyLayers(layers: readonly (readonly LayerEntry[])[]): Map<string, Buffer> {
  const view = new Map<string, Buffer>();
  const hide = (hidden: (path: string) => boolean): void => {
    for (const path of [...view.keys()]) if (hidden(path)) view.delete(path);
  };
  for (const entries of layers) {
    for (const entry of entries) {
      if (entry.kind === 'whiteout') hide((p) => isUnder(p, entry.path));
      else if (entry.kind === 'opaque') hide((p) => p !== entry.path && isUnder(p, entry.path));
    }
    for (const entry of entries) {
      if (entry.kind === 'file') view.set(entry.path, entry.bytes);
      else if (entry.kind === 'other') hide((p) => isUnder(p, entry.path));
    }
  }
  return view;
}

/**
 * Reads the wanted files of an image, with the result {@link applyLayers} gives, but from the top
 * layer down (one layer stream at a time): a path an upper layer holds or hides is decided there,
 * and once every path of `until` is decided the lower layers are not read at all — a release's
 * manifests sit in its top layer, above a base image of hundreds of megabytes.
 */
export async function readImageFiles(
  repository: Repository,
  layers: readonly Descriptor[],
  options: LayerFileOptions & {
    readonly until?: readonly string[];
    /** How one layer is read (default {@link readLayerFiles}): a caller reading several images with shared layers memoises it. */
    readonly readLayer?: (layer: Descriptor) => Promise<LayerEntry[]>;
  },
): Promise<Map<string, Buffer>> {
  const readLayer = options.readLayer ?? ((layer: Descriptor) => readLayerFiles(repository, layer, options));
  const view = new Map<string, Buffer>();
  const decided = new Set<string>();
  /** What upper layers hide below them: a path and everything under it, or (opaque) only what is under it. */
  const hidden: { path: string; self: boolean }[] = [];
  const isHidden = (path: string): boolean => hidden.some((h) => (h.self || path !== h.path) && isUnder(path, h.path));
  const done = (): boolean =>
    options.until !== undefined && options.until.every((path) => decided.has(path) || isHidden(path));
  for (const layer of [...layers].reverse()) {
    if (done()) break;
    const entries = await readLayer(layer);
    for (const entry of entries) {
      if (entry.kind !== 'file' && entry.kind !== 'other') continue;
      if (decided.has(entry.path) || isHidden(entry.path)) continue;
      decided.add(entry.path);
      if (entry.kind === 'file') view.set(entry.path, entry.bytes);
    }
    // A layer's whiteouts (and non-files) hide the layers below it, never its own entries.
    for (const entry of entries) {
      if (entry.kind === 'whiteout' || entry.kind === 'other') hidden.push({ path: entry.path, self: true });
      else if (entry.kind === 'opaque') hidden.push({ path: entry.path, self: false });
    }
  }
  return view;
}
