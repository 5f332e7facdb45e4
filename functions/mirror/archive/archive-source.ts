import { isDigest, parseDigest } from '../../oci/digest.js';
import { DigestMismatchError, NotFoundError, UsageError } from '../../oci/errors.js';
import { type Descriptor, type Manifest, parseManifest } from '../../oci/manifest.js';
import type { BlobBody, ManifestHead, Repository } from '../../oci/repository.js';
import type { ArchiveReader } from './archive-reader.js';
import { ArchiveRepositoryBase } from './archive-repository.js';

/**
 * One archived image as the source of a copy (disk-to-mirror): manifests and blobs are read from
 * the parts by offset. The copier verifies every blob's digest on the way to the registry;
 * manifests are checked here. Content an earlier archive shipped is not here: NotFoundError.
 */
export class ArchiveSource extends ArchiveRepositoryBase implements Repository {
  readonly #reader: ArchiveReader;

  constructor(reader: ArchiveReader, path: string) {
    super(reader.dir, path);
    this.#reader = reader;
  }

  headManifest(reference: string): Promise<ManifestHead | undefined> {
    const where = isDigest(reference) ? this.#reader.location(reference) : undefined;
    return Promise.resolve(
      where?.mediaType === undefined
        ? undefined
        : { digest: parseDigest(reference), mediaType: where.mediaType, size: where.size },
    );
  }

  async getManifest(reference: string): Promise<Manifest> {
    if (!isDigest(reference)) throw new UsageError(`${this.display}: archived images are read by digest`);
    const where = this.#reader.location(reference);
    if (where === undefined) throw this.#notHere(reference);
    const manifest = parseManifest(await this.#reader.bytes(where), where.mediaType);
    if (manifest.digest !== reference)
      throw new DigestMismatchError(`${this.display}: manifest ${reference} hashes to ${manifest.digest}`);
    return manifest;
  }

  putManifest(reference: string): Promise<{ subjectIndexed: boolean }> {
    return Promise.reject(new UsageError(`${this.display}: cannot push ${reference} into an archive being read`));
  }

  headBlob(descriptor: Descriptor): Promise<boolean> {
    return Promise.resolve(this.#reader.location(descriptor.digest) !== undefined);
  }

  openBlob(descriptor: Descriptor, offset: number): Promise<BlobBody> {
    const where = this.#reader.location(descriptor.digest);
    if (where === undefined) return Promise.reject(this.#notHere(descriptor.digest));
    return Promise.resolve({ body: this.#reader.read(where, offset), offset });
  }

  writeBlob(descriptor: Descriptor): Promise<void> {
    return Promise.reject(
      new UsageError(`${this.display}: cannot write ${descriptor.digest} into an archive being read`),
    );
  }

  #notHere(digest: string): NotFoundError {
    return new NotFoundError(`${this.display}: ${digest} is not in this archive (an earlier one shipped it?)`, {
      registry: this.display,
    });
  }
}
