import { gzipSync } from 'node:zlib';
import { buffer } from 'node:stream/consumers';
import { pack } from 'tar-stream';

/** One entry of a test tar: a file (with content), a directory or a symlink. */
export interface TarEntry {
  readonly name: string;
  readonly data?: string | Buffer;
  readonly type?: 'file' | 'directory' | 'symlink';
  readonly linkname?: string;
}

/** A tar archive of `entries` in order, gzipped unless `gzip` is false (a layer blob's bytes). */
export async function tarLayer(entries: readonly TarEntry[], gzip = true): Promise<Buffer> {
  const archive = pack();
  const bytes = buffer(archive);
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const data = type === 'file' ? Buffer.from(entry.data ?? '') : undefined;
    const header = {
      name: entry.name,
      type,
      mode: type === 'directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (data === undefined) archive.entry(header, done);
      else archive.entry(header, data, done);
    });
  }
  archive.finalize();
  const tar = await bytes;
  return gzip ? gzipSync(tar) : tar;
}
