import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveReader } from '../../../functions/mirror/archive/archive-reader.js';
import { ArchiveWriter } from '../../../functions/mirror/archive/archive-writer.js';
import { parseArchiveSize } from '../../../functions/mirror/archive/format.js';
import { Rng } from '../../support/fixtures.js';

// Issue 12, "Pinned: archives": the parts themselves — what the writer leaves when a source fails
// half way, and what the reader refuses before anything is read.

const rng = new Rng(1207);
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-parts-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const digestOf = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A source that sends `sent` bytes and then fails, as a broken connection or a digest mismatch does. */
function failingAfter(data: Buffer, sent: number): Readable {
  return new Readable({
    read() {
      this.push(data.subarray(0, sent));
      this.destroy(new Error('connection reset'));
    },
  });
}

async function entryNames(path: string): Promise<string[]> {
  const names: string[] = [];
  const reading = extract();
  reading.on('entry', (header, stream, next) => {
    names.push(header.name);
    stream.on('end', next);
    stream.resume();
  });
  await pipeline(createReadStream(path), reading);
  return names;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Writes `blobs` into DIR with a part size that holds two of them per part. */
async function archive(dir: string, blobs: readonly Buffer[]): Promise<void> {
  const writer = await ArchiveWriter.open(dir, { partSize: 6 * 1024, imageSet: {} });
  for (const data of blobs) await writer.addBlob(digestOf(data), data.length, Readable.from([data]));
  await writer.finish([]);
}

describe('archive parts', () => {
  it('cuts a blob whose source fails half way out of its part: the tar stays whole and the blob is not indexed', async () => {
    const dir = join(work, 'cut');
    const good = rng.bytes(1500);
    const broken = rng.bytes(200_000);
    const writer = await ArchiveWriter.open(dir, { partSize: 1024 ** 2, imageSet: {} });
    await expect(writer.addBlob(digestOf(broken), broken.length, failingAfter(broken, 100_000))).rejects.toThrow(
      'connection reset',
    );
    await writer.addBlob(digestOf(good), good.length, Readable.from([good]));
    const index = await writer.finish([]);
    expect(Object.keys(index.blobs)).toEqual([digestOf(good)]);
    expect(await entryNames(join(dir, 'mirror_000001.tar'))).toEqual([
      'ferry/part.json',
      `blobs/sha256/${digestOf(good).slice(7)}`,
      'ferry/archive.json',
    ]);
    const reader = await ArchiveReader.open(dir);
    const where = reader.location(digestOf(good))!;
    expect(await readAll(reader.read(where))).toEqual(good);
    expect(await readAll(reader.read(where, 1000))).toEqual(good.subarray(1000));
  });

  it('refuses a part of another size or of another archive, naming it', async () => {
    const dir = join(work, 'mismatch');
    const other = join(work, 'other');
    const blobs = [rng.bytes(2000), rng.bytes(2000), rng.bytes(2000), rng.bytes(2000)];
    await archive(dir, blobs);
    await archive(other, blobs);
    const parts = (await readdir(dir)).filter((f) => f.endsWith('.tar')).sort();
    expect(parts.length).toBeGreaterThanOrEqual(2);
    await copyFile(join(other, parts[0]!), join(dir, parts[0]!));
    await expect(ArchiveReader.open(dir)).rejects.toThrow(`part ${parts[0]} is not part of this archive`);
    await truncate(join(dir, parts[1]!), 1024);
    await expect(ArchiveReader.open(dir)).rejects.toThrow(
      new RegExp(`part ${parts[1]} has 1024 bytes, the index says \\d+`),
    );
  });

  it('reads --archive-size with units, bare numbers as GiB', () => {
    expect(parseArchiveSize('500MiB')).toBe(500 * 1024 ** 2);
    expect(parseArchiveSize('1GB')).toBe(1e9);
    expect(parseArchiveSize('2')).toBe(2 * 1024 ** 3);
    expect(parseArchiveSize('16KiB')).toBe(16 * 1024);
    expect(parseArchiveSize('lots')).toBeUndefined();
    expect(parseArchiveSize('0')).toBeUndefined();
  });
});
