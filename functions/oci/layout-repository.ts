import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sharedBufferPool } from './buffer-pool.js';
import { type Digest, digestAlgorithm, digestHex, isDigest, parseDigest } from './digest.js';
import { DigestMismatchError, LocalPathError, ManifestInvalidError, NotFoundError } from './errors.js';
import { type Descriptor, describeManifest, type IndexManifest, type Manifest, parseManifest } from './manifest.js';
import { maxManifestBytes, MediaType } from './media-types.js';
import { readPooled, writePooled } from './pooled-files.js';
import type { BlobBody, ManifestHead, MountResult, Repository } from './repository.js';

/** The annotation that names a tag in an OCI layout's index.json. */
export const refNameAnnotation = 'org.opencontainers.image.ref.name';

/**
 * An OCI image-layout directory (oci-layout, index.json, blobs/<alg>/<hex>) as a repository:
 * mirror-to-disk and disk-to-mirror for air-gapped sites. Tags live in index.json.
 */
export class LayoutRepository implements Repository {
  readonly registry = undefined;
  readonly name: string;
  readonly display: string;
  #indexLock: Promise<unknown> = Promise.resolve();
  /** The layout's directories and `oci-layout`, made once per repository (blobs are written concurrently). */
  #layout: Promise<void> | undefined;

  constructor(dir: string) {
    this.name = dir;
    this.display = `oci:${dir}`;
  }

  async headManifest(reference: string): Promise<ManifestHead | undefined> {
    const descriptor = await this.#resolve(reference);
    if (!descriptor || !(await this.#hasBlob(descriptor.digest, descriptor.size))) return undefined;
    return { digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size };
  }

  async getManifest(reference: string): Promise<Manifest> {
    const descriptor = await this.#resolve(reference);
    if (!descriptor)
      throw new NotFoundError(`${this.display}: no image "${reference}" in index.json`, { registry: this.display });
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#blobPath(descriptor.digest));
    } catch {
      throw new NotFoundError(`${this.display}: manifest ${descriptor.digest} is missing from blobs/`, {
        registry: this.display,
      });
    }
    if (bytes.length > maxManifestBytes)
      throw new ManifestInvalidError(
        `${this.display}: manifest ${descriptor.digest} is larger than ${maxManifestBytes} bytes`,
      );
    const manifest = parseManifest(
      bytes,
      descriptor.mediaType === 'application/octet-stream' ? undefined : descriptor.mediaType,
    );
    if (manifest.digest !== descriptor.digest)
      throw new DigestMismatchError(`${this.display}: blob ${descriptor.digest} does not match its digest`);
    return manifest;
  }

  async putManifest(reference: string, manifest: Manifest): Promise<{ subjectIndexed: boolean }> {
    await this.#ensureLayout();
    if (!(await this.#hasBlob(manifest.digest, manifest.bytes.length)))
      await this.#writeFileAtomic(this.#blobPath(manifest.digest), manifest.bytes);
    if (!isDigest(reference)) {
      await this.#updateIndex((index) => {
        const kept = index.manifests.filter((d) => d.annotations?.[refNameAnnotation] !== reference);
        const descriptor = describeManifest(manifest);
        kept.push({ ...descriptor, annotations: { ...descriptor.annotations, [refNameAnnotation]: reference } });
        return { ...index, manifests: kept };
      });
    }
    return { subjectIndexed: false };
  }

  headBlob(descriptor: Descriptor): Promise<boolean> {
    return this.#hasBlob(descriptor.digest, descriptor.size);
  }

  async openBlob(descriptor: Descriptor, offset: number): Promise<BlobBody> {
    const path = this.#blobPath(descriptor.digest);
    if (!(await this.#hasBlob(descriptor.digest, descriptor.size))) {
      throw new NotFoundError(`${this.display}: blob ${descriptor.digest} is missing`, { registry: this.display });
    }
    return { body: readPooled(path, offset, sharedBufferPool), offset };
  }

  mountBlob(): Promise<MountResult> {
    return Promise.resolve({ mounted: false });
  }

  async writeBlob(descriptor: Descriptor, body: Readable): Promise<void> {
    await this.#ensureLayout();
    const path = this.#blobPath(descriptor.digest);
    const temp = `${path}.${randomBytes(6).toString('hex')}.partial`;
    try {
      const file = await this.#local('cannot write', temp, () => writePooled(temp, sharedBufferPool));
      await pipeline(body, file);
      await this.#local('cannot write', path, () => rename(temp, path));
    } catch (err) {
      await rm(temp, { force: true });
      // A failing source or digest check is reported as it is; a failing file names its path.
      throw (
        body.errored ??
        (err instanceof Error && !(err instanceof LocalPathError) && isErrno(err)
          ? this.#pathError('cannot write', temp, err)
          : err)
      );
    }
  }

  checkWriteAccess(): Promise<void> {
    return Promise.resolve();
  }

  referrers(): Promise<Descriptor[] | undefined> {
    return Promise.resolve(undefined);
  }

  async listTags(): Promise<string[]> {
    const index = await this.#readIndex();
    return index.manifests.flatMap((d) =>
      d.annotations?.[refNameAnnotation] === undefined ? [] : [d.annotations[refNameAnnotation]],
    );
  }

  /**
   * Removes every index.json entry for `digest` (its tags, or the untagged entry). The manifest's
   * blob and the blobs it references stay in blobs/: other entries may share them, and a layout has
   * no reference counts; a garbage collection (e.g. `oras`/`skopeo` copying the layout afresh) reclaims them.
   */
  async deleteManifest(digest: Digest): Promise<void> {
    if (!(await this.#readIndex()).manifests.some((d) => d.digest === digest))
      throw new NotFoundError(`${this.display}: no manifest ${digest} in index.json`, { registry: this.display });
    await this.#updateIndex((index) => ({ ...index, manifests: index.manifests.filter((d) => d.digest !== digest) }));
  }

  /** A tag, a digest, or — for an untagged `oci:DIR` — the only image in index.json. */
  async #resolve(reference: string): Promise<Descriptor | undefined> {
    if (isDigest(reference)) {
      const digest = parseDigest(reference);
      const index = await this.#readIndex();
      const listed = index.manifests.find((d) => d.digest === digest);
      if (listed) return listed;
      try {
        const bytes = await readFile(this.#blobPath(digest));
        return describeManifest(parseManifest(bytes));
      } catch {
        return undefined;
      }
    }
    const index = await this.#readIndex();
    return index.manifests.find((d) => d.annotations?.[refNameAnnotation] === reference);
  }

  async #readIndex(): Promise<IndexManifest> {
    let bytes: Buffer;
    const path = join(this.name, 'index.json');
    try {
      bytes = await readFile(path);
    } catch (err) {
      // No index yet (a new destination) is an empty layout; anything else (no access, not a directory) is an error.
      if (isErrno(err) && err.code === 'ENOENT')
        return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
      throw this.#pathError('cannot read', path, err);
    }
    const parsed = parseManifest(bytes, MediaType.ociIndex);
    if (parsed.kind !== 'index') throw new ManifestInvalidError(`${this.display}: index.json is not an image index`);
    return parsed.index;
  }

  #updateIndex(change: (index: IndexManifest) => IndexManifest): Promise<void> {
    const next = this.#indexLock.then(async () => {
      const index = change(await this.#readIndex());
      await this.#writeFileAtomic(join(this.name, 'index.json'), Buffer.from(JSON.stringify(index)));
    });
    this.#indexLock = next.catch(() => undefined);
    return next;
  }

  #ensureLayout(): Promise<void> {
    if (!this.#layout) {
      this.#layout = this.#makeLayout();
      this.#layout.catch(() => (this.#layout = undefined));
    }
    return this.#layout;
  }

  async #makeLayout(): Promise<void> {
    await makeDirectory(join(this.name, 'blobs', 'sha256'), this.display);
    await makeDirectory(join(this.name, 'blobs', 'sha512'), this.display);
    const marker = join(this.name, 'oci-layout');
    try {
      await stat(marker);
    } catch {
      await this.#local('cannot write', marker, () =>
        writeFile(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' })),
      );
    }
  }

  /** Runs a file operation; an OS error becomes one line naming the layout, the path and the cause. */
  async #local<T>(action: string, path: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw isErrno(err) ? this.#pathError(action, path, err) : err;
    }
  }

  #pathError(action: string, path: string, cause: unknown): LocalPathError {
    return new LocalPathError(`${this.display}: ${action} ${path}`, { cause });
  }

  async #hasBlob(digest: Digest, size: number): Promise<boolean> {
    try {
      return (await stat(this.#blobPath(digest))).size === size;
    } catch {
      return false;
    }
  }

  async #writeFileAtomic(path: string, bytes: Buffer): Promise<void> {
    const temp = `${path}.${randomBytes(6).toString('hex')}.partial`;
    await this.#local('cannot write', temp, () => writeFile(temp, bytes));
    await this.#local('cannot write', path, () => rename(temp, path));
  }

  #blobPath(digest: Digest): string {
    return join(this.name, 'blobs', digestAlgorithm(digest), digestHex(digest));
  }
}

/** An error from the OS (it has an errno `code` such as ENOENT, EACCES, EROFS). */
function isErrno(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  );
}

/**
 * `mkdir -p` that fails instead of spinning.
 *
 * WARNING: not `mkdir(path, { recursive: true })`: where mkdir answers ENOENT although the parent
 * exists (under /proc, /sys), Node's recursive mkdir retries forever at 100 % CPU.
 */
async function makeDirectory(path: string, display: string): Promise<void> {
  const fail = (err: unknown): LocalPathError =>
    new LocalPathError(`${display}: cannot create directory ${path}`, { cause: err });
  try {
    await mkdir(path);
    return;
  } catch (err) {
    if (!isErrno(err)) throw err;
    if (err.code === 'EEXIST') {
      if (await isDirectory(path)) return;
      throw fail(err);
    }
    const parent = dirname(path);
    if (err.code !== 'ENOENT' || parent === path) throw fail(err);
    await makeDirectory(parent, display);
  }
  // The parent is there now: one more try, and its error is final.
  try {
    await mkdir(path);
  } catch (err) {
    if (!(isErrno(err) && err.code === 'EEXIST' && (await isDirectory(path)))) throw fail(err);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
