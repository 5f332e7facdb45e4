import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalPathError } from '../../oci/errors.js';
import {
  type ArchivedImage,
  archiveIndexFile,
  type ArchiveIndex,
  blobEntryName,
  type BlobLocation,
  type History,
  historyFile,
  historySchema,
  indexEntry,
  partIdentEntry,
  partName,
} from './format.js';
import { formatBytes } from '../format.js';
import { entrySpan, paddedSize, tarBlock, tarTrailer, ustarHeader } from './tar-header.js';

/** How an archive is cut: each part at most `partSize` bytes; a larger blob gets a part of its own. */
export interface ArchiveWriterOptions {
  readonly partSize: number;
  /** The image set, kept in the index as it was given. */
  readonly imageSet: unknown;
  readonly warn?: (message: string) => void;
}

interface OpenPart {
  readonly name: string;
  readonly file: FileHandle;
  position: number;
}

/**
 * Writes the parts of one archive into DIR: blobs stream from the source straight into a tar
 * entry at a known offset (never held in memory); one entry is written at a time. A blob whose
 * stream fails is cut off again (the part is truncated to where its entry began), so a failed
 * image leaves no half blob behind. `finish` writes the index into the last part, beside the
 * parts, and the directory's history.
 */
export class ArchiveWriter {
  readonly dir: string;
  readonly #options: ArchiveWriterOptions;
  readonly #history: History;
  readonly #archiveId = randomUUID();
  readonly #blobs: Record<string, BlobLocation> = {};
  readonly #parts: { name: string; size: number }[] = [];
  #part: OpenPart | undefined;
  #next: number;
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, history: History, options: ArchiveWriterOptions) {
    this.dir = dir;
    this.#history = history;
    this.#options = options;
    this.#next = history.parts.length + 1;
  }

  /** Opens DIR for a new archive, reading its history (an empty one for a new DIR). */
  static async open(dir: string, options: ArchiveWriterOptions): Promise<ArchiveWriter> {
    await local(`cannot create directory ${dir}`, () => mkdir(dir, { recursive: true }));
    return new ArchiveWriter(dir, await readHistory(dir), options);
  }

  /** Where this archive holds a digest, if it does. */
  written(digest: string): BlobLocation | undefined {
    return this.#blobs[digest];
  }

  /** The earlier part that shipped a digest, if one did. */
  shipped(digest: string): (History['shipped'][string] & { digest: string }) | undefined {
    const found = this.#history.shipped[digest];
    return found === undefined ? undefined : { ...found, digest };
  }

  /**
   * Streams `size` bytes of `body` (which verifies its digest) into the archive as `blobs/<alg>/<hex>`;
   * nothing when this archive holds it already.
   */
  addBlob(digest: string, size: number, body: Readable, mediaType?: string): Promise<void> {
    return this.#serial(async () => {
      if (this.#blobs[digest] !== undefined) {
        body.destroy();
        return;
      }
      const part = await this.#room(entrySpan(size));
      const start = part.position;
      try {
        await this.#write(part, ustarHeader(blobEntryName(digest), size));
        let written = 0;
        for await (const chunk of body as AsyncIterable<Buffer>) {
          await this.#write(part, chunk);
          written += chunk.length;
        }
        if (written !== size) throw new Error(`blob ${digest} gave ${written} of ${size} bytes`);
        await this.#write(part, Buffer.alloc(paddedSize(size) - size));
      } catch (err) {
        await part.file.truncate(start);
        part.position = start;
        throw err;
      }
      this.#blobs[digest] = {
        part: part.name,
        offset: start + 512,
        size,
        ...(mediaType === undefined ? {} : { mediaType }),
      };
    });
  }

  /** Closes the archive: the index into the last part and beside the parts, then the history. Returns the index. */
  finish(images: readonly ArchivedImage[]): Promise<ArchiveIndex> {
    return this.#serial(async () => {
      const index = (parts: ArchiveIndex['parts']): ArchiveIndex => ({
        version: 1,
        archiveId: this.#archiveId,
        created: new Date().toISOString(),
        imageSet: this.#options.imageSet,
        parts,
        buildsOn: this.#history.parts,
        blobs: this.#blobs,
        images: [...images],
      });
      const inner = Buffer.from(JSON.stringify(index(this.#parts.map((p) => ({ name: p.name })))));
      const part = await this.#room(entrySpan(inner.length) + tarTrailer.length);
      await this.#write(part, ustarHeader(indexEntry, inner.length));
      await this.#write(part, Buffer.concat([inner, Buffer.alloc(paddedSize(inner.length) - inner.length)]));
      await this.#closePart();
      const final = index(this.#parts);
      await writeAtomic(join(this.dir, archiveIndexFile), JSON.stringify(final, null, 1));
      const shipped = { ...this.#history.shipped };
      for (const [digest, where] of Object.entries(this.#blobs))
        shipped[digest] = {
          part: where.part,
          size: where.size,
          kind: where.mediaType === undefined ? 'blob' : 'manifest',
          ...(where.mediaType === undefined ? {} : { mediaType: where.mediaType }),
        };
      const history: History = {
        version: 1,
        parts: [...this.#history.parts, ...this.#parts.map((p) => p.name)],
        shipped,
      };
      await writeAtomic(join(this.dir, historyFile), JSON.stringify(history));
      return final;
    });
  }

  /** Closes an open part without an index (a failed run): the history is left as it was. */
  abort(): Promise<void> {
    return this.#serial(() => this.#closePart());
  }

  /** The open part when `span` more bytes fit (or it is empty but for its ident); else a new one. */
  async #room(span: number): Promise<OpenPart> {
    const { partSize } = this.#options;
    const current = this.#part;
    const alone = identSpan + span + tarTrailer.length > partSize;
    if (alone)
      this.#options.warn?.(
        `a blob of ${formatBytes(span - tarBlock)} is larger than the part size ${formatBytes(partSize)}: it gets a part of its own`,
      );
    if (
      current !== undefined &&
      (current.position + span + tarTrailer.length <= partSize || current.position <= identSpan)
    )
      return current;
    await this.#closePart();
    const name = partName(this.#next++);
    const path = join(this.dir, name);
    const file = await local(`cannot write ${path}`, () => open(path, 'w'));
    const part: OpenPart = { name, file, position: 0 };
    this.#part = part;
    const ident = Buffer.from(JSON.stringify({ archiveId: this.#archiveId, part: name }).padEnd(identBytes));
    await this.#write(part, ustarHeader(partIdentEntry, ident.length));
    await this.#write(part, ident);
    return part;
  }

  async #closePart(): Promise<void> {
    const part = this.#part;
    if (part === undefined) return;
    this.#part = undefined;
    await this.#write(part, tarTrailer);
    await part.file.close();
    this.#parts.push({ name: part.name, size: part.position });
  }

  async #write(part: OpenPart, bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    await local(`cannot write ${join(this.dir, part.name)}`, () =>
      part.file.write(bytes, 0, bytes.length, part.position),
    );
    part.position += bytes.length;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#lock.then(work);
    this.#lock = next.catch(() => undefined);
    return next;
  }
}

/** The ident entry's data: one block, so the first blob starts at a fixed offset. */
const identBytes = 512;
const identSpan = entrySpan(identBytes);

/** A blob's bytes as a stream (manifests, which the copier hands over as bytes). */
export function bytesStream(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes)]);
}

async function readHistory(dir: string): Promise<History> {
  let text: string;
  try {
    text = await readFile(join(dir, historyFile), 'utf8');
  } catch {
    return { version: 1, parts: [], shipped: {} };
  }
  const parsed = historySchema.safeParse(parseJson(text));
  if (!parsed.success) throw new LocalPathError(`${join(dir, historyFile)}: not a Ferry archive history`);
  return parsed.data;
}

/** JSON text as a value; undefined (which no schema accepts) when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await local(`cannot write ${path}`, async () => {
    await writeFile(`${path}.partial`, text);
    await rename(`${path}.partial`, path);
  });
}

async function local<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw new LocalPathError(`archive: ${what}`, { cause: err });
  }
}
