import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { type Digest, digestOf, parseDigest } from '../../oci/digest.js';
import { UsageError } from '../../oci/errors.js';
import { goJson, sortedKeys } from '../../oci/go-json.js';
import type { Descriptor } from '../../oci/manifest.js';
import { MediaType } from '../../oci/media-types.js';

// Artifacts as oras 1.1–1.3 packs them (docs/oras-format.md §1–2, oras-go pack.go
// packManifestV1_1, content/file): an OCI image manifest with `artifactType`, the empty config
// (`{}`, with `data`), one layer per file titled with the path as given (cleaned), directories as
// tar+gzip with oras's two annotations, and `org.opencontainers.image.created` always set.

/** Annotation keys oras reads and writes. */
export const Annotation = {
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  /** The digest of a directory's uncompressed tar. */
  contentDigest: 'io.deis.oras.content.digest',
  /** `"true"`: the layer is a directory to unpack. */
  unpack: 'io.deis.oras.content.unpack',
} as const;

/** oras's artifact type when none is given (`oras.MediaTypeUnknownArtifact`). */
export const unknownArtifactType = 'application/vnd.unknown.artifact.v1';
/** oras's config media type for `--config FILE` without one. */
export const unknownConfigType = 'application/vnd.unknown.config.v1+json';

const emptyBytes = Buffer.from('{}');
/** The OCI empty descriptor, as image-spec's `DescriptorEmptyJSON` (with `data`). */
export const emptyDescriptor: Descriptor = {
  mediaType: MediaType.ociEmpty,
  digest: digestOf(emptyBytes),
  size: 2,
  data: emptyBytes.toString('base64'),
};

/** A blob of an artifact: its descriptor and how to read its bytes (again, for each upload attempt). */
export interface ArtifactBlob {
  readonly descriptor: Descriptor;
  readonly open: () => Readable;
}

/** What to pack: files and directories (in argument order), the type, annotations, an optional config and subject. */
export interface PackInput {
  readonly files: readonly { readonly path: string; readonly mediaType?: string }[];
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly config?: { readonly path: string; readonly mediaType?: string };
  readonly subject?: Descriptor;
  /** `org.opencontainers.image.created` unless `annotations` sets it (RFC 3339). */
  readonly created: Date;
}

/** A packed artifact: the manifest's bytes and digest, the blobs it names, and a `cleanup` for temporary files. */
export interface PackedArtifact {
  readonly manifest: Buffer;
  readonly digest: Digest;
  readonly blobs: readonly ArtifactBlob[];
  readonly cleanup: () => Promise<void>;
}

const mediaTypePattern = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** `FILE[:MEDIATYPE]`, split at the last `:` as oras does (`hi:txt:` is the file `hi:txt`, default type). */
export function parseFileArgument(argument: string): { path: string; mediaType?: string } {
  const colon = argument.lastIndexOf(':');
  if (colon <= 0) return { path: argument };
  const mediaType = argument.slice(colon + 1);
  const path = argument.slice(0, colon);
  return mediaType === '' ? { path } : { path, mediaType };
}

/** The title oras gives a path: cleaned, with `/` separators; absolute paths refused (oras's default). */
export function titleOf(path: string): string {
  if (posix.isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path))
    throw new UsageError(`${path}: absolute file path: give a path relative to the current directory`);
  const title = posix.normalize(path.replaceAll('\\', '/')).replace(/\/+$/, '');
  if (title === '' || title === '.') throw new UsageError(`${path}: not a file name`);
  return title;
}

function checkMediaType(value: string, what: string): string {
  if (!mediaTypePattern.test(value)) throw new UsageError(`${what} "${value}" is not a media type (type/subtype)`);
  return value;
}

/**
 * Packs files and directories as oras does: each a layer in argument order (the same title twice
 * is an error), the manifest in Go's key order without a trailing newline. Directories are packed
 * into a temporary tar+gzip file that `cleanup` removes.
 */
export async function packArtifact(input: PackInput): Promise<PackedArtifact> {
  const temporary: string[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  try {
    const titles = new Set<string>();
    const layers: ArtifactBlob[] = [];
    for (const file of input.files) {
      const title = titleOf(file.path);
      if (titles.has(title)) throw new UsageError(`${file.path}: the title ${title} is given twice`);
      titles.add(title);
      const mediaType = file.mediaType === undefined ? undefined : checkMediaType(file.mediaType, 'media type');
      const stat = await lstat(file.path).catch((err: unknown) => {
        throw new UsageError(`cannot read ${file.path}: ${(err as Error).message}`, { cause: err });
      });
      if (stat.isDirectory()) {
        const dir = await mkdtemp(join(tmpdir(), 'ferry-artifact-'));
        temporary.push(dir);
        layers.push(await packDirectory(file.path, title, join(dir, 'layer.tar.gz'), mediaType));
      } else if (stat.isFile())
        layers.push(await fileBlob(file.path, mediaType ?? MediaType.ociLayer, { [Annotation.title]: title }));
      else throw new UsageError(`${file.path}: not a file or directory`);
    }
    const config =
      input.config === undefined
        ? { descriptor: emptyDescriptor, open: () => bytesStream(emptyBytes) }
        : await fileBlob(
            input.config.path,
            checkMediaType(input.config.mediaType ?? unknownConfigType, 'config media type'),
          );
    if (input.artifactType !== undefined) checkMediaType(input.artifactType, '--artifact-type');
    // oras 1.2+: `--config` without `--artifact-type` is an image-spec 1.0 manifest (no artifactType).
    const artifactType = input.artifactType ?? (input.config === undefined ? unknownArtifactType : undefined);
    const annotations = { ...input.annotations };
    if (annotations[Annotation.created] === undefined)
      annotations[Annotation.created] = input.created.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const shownLayers = layers.length === 0 ? [emptyDescriptor] : layers.map((l) => l.descriptor);
    const manifest = Buffer.from(
      goJson({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        ...(artifactType === undefined ? {} : { artifactType }),
        config: descriptorJson(config.descriptor),
        layers: shownLayers.map(descriptorJson),
        ...(input.subject === undefined ? {} : { subject: descriptorJson(input.subject) }),
        annotations: sortedKeys(annotations),
      }),
    );
    const blobs = [
      config,
      ...(layers.length === 0 ? [{ descriptor: emptyDescriptor, open: () => bytesStream(emptyBytes) }] : layers),
    ];
    return { manifest, digest: digestOf(manifest), blobs, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** A descriptor in image-spec's field order, annotations sorted. */
export function descriptorJson(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.urls === undefined ? {} : { urls: d.urls }),
    ...(d.annotations === undefined || Object.keys(d.annotations).length === 0
      ? {}
      : { annotations: sortedKeys(d.annotations) }),
    ...(typeof d.data === 'string' ? { data: d.data } : {}),
    ...(d.platform === undefined ? {} : { platform: d.platform }),
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
  };
}

function bytesStream(bytes: Buffer): Readable {
  return Readable.from([bytes]);
}

async function fileBlob(path: string, mediaType: string, annotations?: Record<string, string>): Promise<ArtifactBlob> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const descriptor: Descriptor = {
    mediaType,
    digest: parseDigest(`sha256:${hash.digest('hex')}`),
    size,
    ...(annotations === undefined ? {} : { annotations }),
  };
  return { descriptor, open: () => createReadStream(path) };
}

/**
 * A directory as oras packs it: a tar whose entries are named `<title>` (the directory itself)
 * and `<title>/<relative path>`, walked in lexical order, modes' permission bits, uid/gid 0,
 * mtimes to the second, symlinks kept as links; gzipped into `file`.
 */
async function packDirectory(dir: string, title: string, file: string, mediaType?: string): Promise<ArtifactBlob> {
  const tar = tarPack();
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  let gzSize = 0;
  const tap = (hash: ReturnType<typeof createHash>, count?: (n: number) => void): Transform =>
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        count?.(chunk.length);
        done(null, chunk);
      },
    });
  const written = pipeline(
    tar,
    tap(tarHash),
    createGzip(),
    tap(gzHash, (n) => (gzSize += n)),
    createWriteStream(file),
  );
  written.catch(() => undefined);
  try {
    await addEntries(tar, dir, title);
    tar.finalize();
    await written;
  } catch (err) {
    tar.destroy(err as Error);
    await written.catch(() => undefined);
    throw err instanceof UsageError
      ? err
      : new UsageError(`cannot pack ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const descriptor: Descriptor = {
    mediaType: mediaType ?? MediaType.ociLayerGzip,
    digest: parseDigest(`sha256:${gzHash.digest('hex')}`),
    size: gzSize,
    annotations: {
      [Annotation.contentDigest]: `sha256:${tarHash.digest('hex')}`,
      [Annotation.unpack]: 'true',
      [Annotation.title]: title,
    },
  };
  return { descriptor, open: () => createReadStream(file) };
}

type TarPack = ReturnType<typeof tarPack>;

async function addEntries(tar: TarPack, path: string, name: string): Promise<void> {
  const stat = await lstat(path);
  const header = {
    name,
    mode: stat.mode & 0o7777,
    uid: 0,
    gid: 0,
    mtime: new Date(Math.round(stat.mtimeMs / 1000) * 1000),
  };
  if (stat.isDirectory()) {
    await entry(tar, { ...header, type: 'directory' });
    for (const child of (await readdir(path)).sort()) await addEntries(tar, join(path, child), `${name}/${child}`);
  } else if (stat.isSymbolicLink()) {
    await entry(tar, { ...header, type: 'symlink', linkname: await readlink(path) });
  } else if (stat.isFile()) {
    await new Promise<void>((resolve, reject) => {
      const sink = tar.entry({ ...header, type: 'file', size: stat.size }, (err) => (err ? reject(err) : resolve()));
      pipeline(createReadStream(path), sink).catch(reject);
    });
  } else throw new UsageError(`${path}: not a file, directory or symbolic link`);
}

function entry(tar: TarPack, header: Parameters<TarPack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => tar.entry(header, (err) => (err ? reject(err) : resolve())));
}
