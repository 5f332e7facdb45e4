import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseJson } from './archive-writer.js';
import {
  ArchiveError,
  archiveIndexFile,
  type ArchiveIndex,
  archiveIndexSchema,
  type BlobLocation,
  partIdentSchema,
} from './format.js';
import { tarBlock } from './tar-header.js';

/**
 * An archive in DIR, checked before anything is read from it: its index parses, every part it
 * names is there, of the recorded size, and says it belongs to this archive. Blobs are then read
 * straight from the parts by offset (no unpacking); the copier verifies their digests.
 */
export class ArchiveReader {
  readonly dir: string;
  readonly index: ArchiveIndex;

  private constructor(dir: string, index: ArchiveIndex) {
    this.dir = dir;
    this.index = index;
  }

  /** Reads and checks DIR's archive; an ArchiveError names every missing or mismatched part. */
  static async open(dir: string): Promise<ArchiveReader> {
    const path = join(dir, archiveIndexFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ArchiveError(`${dir}: no ${archiveIndexFile}: not a Ferry archive (or it was not copied)`, {
        cause: err,
      });
    }
    const parsed = archiveIndexSchema.safeParse(parseJson(text));
    if (!parsed.success) throw new ArchiveError(`${path}: not a Ferry archive index`);
    const index = parsed.data;
    const problems = (await Promise.all(index.parts.map((part) => checkPart(dir, index.archiveId, part)))).flat();
    if (problems.length > 0) throw new ArchiveError(`${dir}: ${problems.join('; ')}; nothing pushed`);
    return new ArchiveReader(dir, index);
  }

  /** Where this archive holds a digest; undefined when an earlier archive shipped it. */
  location(digest: string): BlobLocation | undefined {
    return this.index.blobs[digest];
  }

  /** The blob's bytes from `offset` on, straight from its part. */
  read(location: BlobLocation, offset = 0): Readable {
    // Nothing left (an empty blob): createReadStream with end < start would read to the end of the part.
    if (offset >= location.size) return Readable.from([]);
    const start = location.offset + offset;
    return createReadStream(join(this.dir, location.part), { start, end: location.offset + location.size - 1 });
  }

  /** The whole of a (small) blob, a manifest. */
  async bytes(location: BlobLocation): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.read(location) as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
}

/** What is wrong with one part: missing, another size, another archive's. */
async function checkPart(dir: string, archiveId: string, part: ArchiveIndex['parts'][number]): Promise<string[]> {
  const path = join(dir, part.name);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return [`part ${part.name} is missing`];
  }
  if (part.size !== undefined && size !== part.size)
    return [`part ${part.name} has ${size} bytes, the index says ${part.size}`];
  const file = await open(path, 'r');
  try {
    const block = Buffer.alloc(2 * tarBlock);
    const { bytesRead } = await file.read(block, 0, block.length, 0);
    const ident = partIdentSchema.safeParse(parseJson(block.subarray(tarBlock, bytesRead).toString('utf8')));
    if (!ident.success || ident.data.archiveId !== archiveId || ident.data.part !== part.name)
      return [`part ${part.name} is not part of this archive`];
    return [];
  } finally {
    await file.close();
  }
}
