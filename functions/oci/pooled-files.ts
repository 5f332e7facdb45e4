import { open } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';

/**
 * A file from `offset` as an object-mode stream of chunks read into buffers of `pool` — an OCI
 * layout's blob on its way to an upload, which gives each buffer back once written (see
 * {@link BufferPool}); `fs.createReadStream` allocates a fresh buffer per read.
 */
export function readPooled(path: string, offset: number, pool: BufferPool): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    const handle = await open(path, 'r');
    try {
      for (let position = offset; ;) {
        const buffer = pool.take();
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) {
          pool.give(buffer);
          return;
        }
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }
  return Readable.from(chunks(), { objectMode: true, highWaterMark: 4 });
}

/** A file sink that gives each chunk's buffer back to `pool` once the chunk is on disk. */
export async function writePooled(path: string, pool: BufferPool): Promise<Writable> {
  const handle = await open(path, 'w');
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= handle.close());
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, done) {
      void (async () => {
        for (let written = 0; written < chunk.length;) {
          written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
        }
        pool.give(chunk);
      })().then(() => done(), done);
    },
    final(done) {
      close().then(() => done(), done);
    },
    destroy(err, done) {
      close().then(
        () => done(err),
        () => done(err),
      );
    },
  });
}
