import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { applyLayers, type LayerEntry, normalizeLayerPath } from '../../functions/mirror/content/layer-files.js';
import { type Catalog } from '../../functions/mirror/operators/model.js';
import { parseCatalog } from '../../functions/mirror/operators/fbc.js';

// Reading a rebuilt catalog back from a test registry, independently of the code that wrote it
// (tar-stream, not Ferry's layer reader): the layer entries with their whiteouts, applied in order.

/** A layer's entries as layer-files reports them: every regular file, whiteouts and opaque markers. */
export async function layerEntries(baseUrl: string, repository: string, digest: string): Promise<LayerEntry[]> {
  const res = await fetch(`${baseUrl}/v2/${repository}/blobs/${digest}`);
  const tar = gunzipSync(Buffer.from(await res.arrayBuffer()));
  const out: LayerEntry[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const path = normalizeLayerPath(header.name);
        const base = path.slice(path.lastIndexOf('/') + 1);
        const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
        if (base === '.wh..wh..opq') out.push({ kind: 'opaque', path: dir });
        else if (base.startsWith('.wh.'))
          out.push({ kind: 'whiteout', path: dir === '' ? base.slice(4) : `${dir}/${base.slice(4)}` });
        else if (header.type === 'file') out.push({ kind: 'file', path, bytes: Buffer.concat(chunks) });
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  return out;
}

/** The files of an image manifest's layers, whiteouts applied (the view a container sees). */
export async function imageFiles(
  baseUrl: string,
  repository: string,
  layers: readonly { digest: string }[],
): Promise<Map<string, Buffer>> {
  return applyLayers(await Promise.all(layers.map((l) => layerEntries(baseUrl, repository, l.digest))));
}

/** The catalog served from `configs/` in a file view (see {@link imageFiles}). */
export function configsCatalog(view: ReadonlyMap<string, Buffer>): Catalog {
  return parseCatalog(
    new Map([...view].filter(([p]) => p.startsWith('configs/')).map(([p, b]) => [p.slice('configs/'.length), b])),
  );
}
