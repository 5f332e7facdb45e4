import type { Readable } from 'node:stream';
import { isDigest } from '../../oci/digest.js';
import { UsageError } from '../../oci/errors.js';
import type { Descriptor, Manifest } from '../../oci/manifest.js';
import type { BlobBody, ManifestHead, Repository } from '../../oci/repository.js';
import { ArchiveRepositoryBase } from './archive-repository.js';
import { type ArchiveWriter, bytesStream } from './archive-writer.js';
import type { Shipped } from './format.js';

/**
 * One image's destination inside an archive being written: the copier walks the image as for a
 * registry and each blob and manifest lands in the archive once. Content an earlier archive of
 * the directory shipped counts as present (incremental runs) and is noted in `earlier`.
 */
export class ArchiveDestination extends ArchiveRepositoryBase implements Repository {
  readonly #writer: ArchiveWriter;
  readonly #earlier = new Map<string, Shipped>();

  constructor(writer: ArchiveWriter, path: string) {
    super(writer.dir, path);
    this.#writer = writer;
  }

  /** What this image needs from earlier archives. */
  get earlier(): Shipped[] {
    return [...this.#earlier.values()];
  }

  /** A digest this archive or an earlier one holds; a tag is never known (the copier then reads the source). */
  headManifest(reference: string): Promise<ManifestHead | undefined> {
    if (!isDigest(reference)) return Promise.resolve(undefined);
    const here = this.#writer.written(reference);
    if (here?.mediaType !== undefined)
      return Promise.resolve({ digest: reference, mediaType: here.mediaType, size: here.size });
    const before = this.#present(reference);
    return Promise.resolve(
      before?.mediaType === undefined
        ? undefined
        : { digest: reference, mediaType: before.mediaType, size: before.size },
    );
  }

  getManifest(reference: string): Promise<Manifest> {
    return Promise.reject(new UsageError(`${this.display}: cannot read ${reference} while writing the archive`));
  }

  async putManifest(_reference: string, manifest: Manifest): Promise<{ subjectIndexed: boolean }> {
    if (this.#writer.written(manifest.digest) === undefined && this.#present(manifest.digest) === undefined)
      await this.#writer.addBlob(
        manifest.digest,
        manifest.bytes.length,
        bytesStream(manifest.bytes),
        manifest.mediaType,
      );
    return { subjectIndexed: false };
  }

  headBlob(descriptor: Descriptor): Promise<boolean> {
    return Promise.resolve(
      this.#writer.written(descriptor.digest) !== undefined || this.#present(descriptor.digest) !== undefined,
    );
  }

  openBlob(descriptor: Descriptor): Promise<BlobBody> {
    return Promise.reject(
      new UsageError(`${this.display}: cannot read ${descriptor.digest} while writing the archive`),
    );
  }

  writeBlob(descriptor: Descriptor, body: Readable): Promise<void> {
    return this.#writer.addBlob(descriptor.digest, descriptor.size, body);
  }

  /** Shipped by an earlier archive: noted as needed at the destination. */
  #present(digest: string): Shipped | undefined {
    const shipped = this.#writer.shipped(digest);
    if (shipped !== undefined) this.#earlier.set(digest, shipped);
    return shipped;
  }
}
