import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { once } from 'node:events';

/** Writes `size` random bytes to `path` in 1 MiB pieces, hashing as it goes. */
export async function writeRandomFile(path: string, size: number): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; ) {
    const piece = randomBytes(Math.min(1 << 20, size - written));
    hash.update(piece);
    written += piece.length;
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Streams a file into a registry as one blob (POST, then PUT with Content-Length). */
export async function pushBlobFile(baseUrl: string, repository: string, path: string, digest: string): Promise<void> {
  const head = await fetch(`${baseUrl}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const start = await fetch(`${baseUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  const location = new URL(start.headers.get('location')!, baseUrl);
  location.searchParams.set('digest', digest);
  await new Promise<void>((resolve, reject) => {
    const req = request(location, {
      method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(statSync(path).size) },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`PUT blob ${res.statusCode}`))));
    });
    req.on('error', reject);
    createReadStream(path, { highWaterMark: 1 << 20 }).pipe(req);
  });
}
