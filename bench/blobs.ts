import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { once } from 'node:events';
import { blob, push, sha256 } from '../test/support/fixtures.js';

/** Writes `size` random bytes to `path` in 1 MiB pieces, hashing as it goes. */
export async function writeRandomFile(path: string, size: number): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size;) {
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
    const req = request(
      location,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(statSync(path).size) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`PUT blob ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    createReadStream(path, { highWaterMark: 1 << 20 }).pipe(req);
  });
}

/** A random layer of `size` bytes uploaded (streamed from a temporary file) to each of `repositories`. */
export async function uploadRandomLayer(
  baseUrl: string,
  repositories: readonly string[],
  size: number,
  dir: string,
): Promise<{ digest: string; size: number }> {
  const file = join(dir, `layer-${process.pid}-${Date.now()}.bin`);
  const layer = await writeRandomFile(file, size);
  try {
    for (const repository of repositories) await pushBlobFile(baseUrl, repository, file, layer.digest);
  } finally {
    rmSync(file, { force: true });
  }
  return layer;
}

/** Pushes an OCI image manifest (with a small config) over layers already in the repository. */
export async function pushImageOver(
  baseUrl: string,
  repository: string,
  tag: string,
  layers: readonly { digest: string; size: number }[],
): Promise<void> {
  const config = blob(
    MediaTypes.config,
    Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    ),
  );
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.manifest,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: MediaTypes.layer, digest: l.digest, size: l.size })),
    }),
  );
  await push(baseUrl, repository, tag, {
    mediaType: MediaTypes.manifest,
    digest: sha256(bytes),
    bytes,
    blobs: [config],
    children: [],
  });
}

const MediaTypes = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;
