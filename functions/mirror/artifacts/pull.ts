import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp, lstat, mkdir, realpath, rename, rm, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { DigestMismatchError, LocalPathError } from '../../oci/errors.js';
import { openVerifiedBlob } from '../../oci/blob-read.js';
import { type Digest, parseDigest } from '../../oci/digest.js';
import type { Descriptor, Manifest } from '../../oci/manifest.js';
import type { Repository } from '../../oci/repository.js';
import { Annotation, emptyDescriptor } from './pack.js';

// `ferry pull` as `oras pull` reads an artifact (docs/oras-format.md §3): the layers with a title
// are written under the output directory, titles that would land outside it refused before
// anything is written, every blob verified before it is renamed into place; directories
// (`io.deis.oras.content.unpack`) unpacked, their uncompressed digest checked, entries that would
// leave the directory refused.

/** One file or directory written. */
export interface PulledFile {
  readonly title: string;
  readonly path: string;
  readonly digest: Digest;
  readonly size: number;
  readonly unpacked: boolean;
}

export interface PullOptions {
  /** oras's `--allow-path-traversal`: titles may leave the directory (never a directory's own entries). */
  readonly allowPathTraversal?: boolean;
}

/** The titled layers of an artifact (of every image manifest of an index); the empty blob and untitled layers are skipped. */
async function titledLayers(repository: Repository, manifest: Manifest): Promise<Descriptor[]> {
  if (manifest.kind === 'index') {
    const out: Descriptor[] = [];
    for (const child of manifest.index.manifests)
      out.push(...(await titledLayers(repository, await repository.getManifest(child.digest))));
    return out;
  }
  return manifest.image.layers.filter(
    (l) => l.annotations?.[Annotation.title] !== undefined && l.digest !== emptyDescriptor.digest,
  );
}

/**
 * Pulls the artifact at `reference` into `dir`. Every title is checked first (none may escape
 * `dir`, through `..` or a symbolic link, nor repeat), so a bad artifact writes nothing; then each
 * blob is streamed through the digest verifier into a temporary file beside its target and
 * renamed over it only once it verified.
 */
export async function pullArtifact(
  repository: Repository,
  reference: string,
  dir: string,
  options: PullOptions = {},
): Promise<PulledFile[]> {
  const manifest = await repository.getManifest(reference);
  const layers = await titledLayers(repository, manifest);
  await mkdir(dir, { recursive: true });
  const root = await realpath(dir);
  const targets: { layer: Descriptor; title: string; path: string }[] = [];
  const titles = new Set<string>();
  for (const layer of layers) {
    const title = layer.annotations![Annotation.title]!;
    if (titles.has(title)) throw new LocalPathError(`${repository.display}: the title ${title} is given twice`);
    titles.add(title);
    const path = isAbsolute(title) ? title : resolve(root, title);
    if (!options.allowPathTraversal) await checkInside(root, path, `title ${title}`);
    targets.push({ layer, title, path });
  }
  const pulled: PulledFile[] = [];
  for (const { layer, title, path } of targets) {
    const unpack = layer.annotations?.[Annotation.unpack] === 'true';
    if (unpack) await unpackDirectory(repository, layer, title, path);
    else await writeVerified(repository, layer, path);
    pulled.push({ title, path, digest: layer.digest, size: layer.size, unpacked: unpack });
  }
  return pulled;
}

/** Refuses `path` outside `root`, also once the symbolic links of its deepest existing ancestor are resolved. */
async function checkInside(root: string, path: string, what: string): Promise<void> {
  const outside = (p: string): boolean => {
    const rel = relative(root, p);
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  };
  if (outside(path)) throw new LocalPathError(`${what} is outside the output directory ${root}`);
  let existing = path;
  while (existing !== root && !(await exists(existing))) existing = dirname(existing);
  if (outside(await realpath(existing)))
    throw new LocalPathError(`${what} leads outside the output directory ${root} through a symbolic link`);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

const temporaryName = (path: string): string => `${path}.ferry-${randomBytes(6).toString('hex')}`;

async function writeVerified(repository: Repository, layer: Descriptor, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryName(path);
  try {
    await pipeline(await openVerifiedBlob(repository, layer), createWriteStream(temporary, { mode: 0o666 }));
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/**
 * A directory layer: gunzipped and untarred into a temporary directory beside `path` (entries
 * must be `<title>` or under `<title>/`, and stay there, links included), the uncompressed tar
 * checked against `io.deis.oras.content.digest`, then moved into place.
 */
async function unpackDirectory(repository: Repository, layer: Descriptor, title: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryName(path);
  await mkdir(temporary);
  const expected = layer.annotations?.[Annotation.contentDigest];
  const tarHash = createHash('sha256');
  try {
    const extract = tarExtract();
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        tarHash.update(chunk);
        done(null, chunk);
      },
    });
    const done = pipeline(await openVerifiedBlob(repository, layer), createGunzip(), tap, extract);
    done.catch(() => undefined);
    const base = posix.normalize(title);
    for await (const entry of extract) {
      const name = posix.normalize(entry.header.name).replace(/\/+$/, '');
      const rel = name === base ? '' : name.startsWith(`${base}/`) ? name.slice(base.length + 1) : undefined;
      if (rel === undefined || rel.split('/').includes('..'))
        throw new LocalPathError(`${repository.display}: ${title}: the entry ${entry.header.name} is outside ${title}`);
      const target = rel === '' ? temporary : join(temporary, rel);
      const type = entry.header.type;
      if (type === 'directory') await mkdir(target, { recursive: true });
      else if (type === 'file' || type === 'contiguous-file') {
        await mkdir(dirname(target), { recursive: true });
        await pipeline(entry, createWriteStream(target, { mode: (entry.header.mode ?? 0o644) & 0o777 }));
        continue;
      } else if (type === 'symlink') {
        const link = entry.header.linkname ?? '';
        const to = resolve(dirname(target), link);
        const relTo = relative(temporary, to);
        if (isAbsolute(link) || relTo === '..' || relTo.startsWith(`..${sep}`))
          throw new LocalPathError(
            `${repository.display}: ${title}: the link ${entry.header.name} points outside ${title}`,
          );
        await mkdir(dirname(target), { recursive: true });
        await symlink(link, target);
      }
      entry.resume();
    }
    await done;
    if (expected !== undefined) {
      const actual = `sha256:${tarHash.digest('hex')}`;
      if (actual !== parseDigest(expected))
        throw new DigestMismatchError(
          `${repository.display}: ${title}: content hashes to ${actual}, expected ${expected}`,
        );
    }
    if (await exists(path)) {
      await cp(temporary, path, { recursive: true, force: true, verbatimSymlinks: true });
      await rm(temporary, { recursive: true, force: true });
    } else await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { recursive: true, force: true });
    throw err;
  }
}
