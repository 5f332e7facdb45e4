import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { type Digest, digestOf } from '../../oci/digest.js';
import { CatalogError } from './errors.js';
import { compareStrings, configsLabel, defaultConfigsDir } from './model.js';

// The one layer that turns a catalog image into the filtered catalog: it replaces the configs
// directory (opaque whiteout, then the filtered files) and deletes opm's pre-built cache (a
// whiteout), so that `opm serve` builds the cache from the new files at start.
// oc-mirror does the same in internal/pkg/imagebuilder/catalog_builder.go RebuildCatalog (a
// `.wh.configs` layer, a layer of the new configs with uid/gid 0, and `Cmd: [serve, /configs]`).
// Whiteouts: https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts

/**
 * The image label some catalogs set to name opm's cache directory. operator-registry defines no
 * such label: its generated Dockerfile (alpha/action/generate_dockerfile.go) builds the cache with
 * `--cache-dir=/tmp/cache` in RUN and CMD, so the `--cache-dir` of the command and then
 * `/tmp/cache` are the fallbacks.
 */
export const cacheLabel = 'operators.operatorframework.io.index.cache.v1';
/** opm's cache directory in images built from its generated Dockerfile. */
export const defaultCacheDir = '/tmp/cache';

/** The parts of an image config the catalog locations are read from. */
export interface CatalogImageConfig {
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly Cmd?: readonly string[] | null;
  readonly Entrypoint?: readonly string[] | null;
}

/** The configs directory: the `operators.operatorframework.io.index.configs.v1` label, else `/configs`. */
export function configsDirOf(config: CatalogImageConfig | undefined): string {
  const label = config?.Labels?.[configsLabel];
  return label === undefined || label === '' ? defaultConfigsDir : label;
}

/** opm's cache directory: the cache label, else `--cache-dir` of Entrypoint + Cmd, else `/tmp/cache`. */
export function cacheDirOf(config: CatalogImageConfig | undefined): string {
  const label = config?.Labels?.[cacheLabel];
  if (label !== undefined && label !== '') return label;
  const args = [...(config?.Entrypoint ?? []), ...(config?.Cmd ?? [])];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('--cache-dir=')) return arg.slice('--cache-dir='.length);
    if (arg === '--cache-dir' && args[i + 1] !== undefined) return args[i + 1]!;
  }
  return defaultCacheDir;
}

/** A built layer: its gzip bytes with digest and size, the uncompressed tar's digest, and its entry names. */
export interface CatalogLayer {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly size: number;
  readonly diffId: Digest;
  readonly entries: readonly string[];
}

/** Limits of what the layer may hold. */
const maxLayerFiles = 100_000;

/**
 * Builds the layer: `<configs>/` with an opaque whiteout and the files (path relative to the
 * configs directory → bytes), their directories, and `<parent of cache>/.wh.<cache>`.
 * Deterministic: entries sorted by name, mtime 0, uid/gid 0, modes 0755/0644, gzip level 9, so
 * the same files give the same digests.
 */
export async function buildCatalogLayer(input: {
  readonly files: ReadonlyMap<string, Buffer>;
  readonly configsDir: string;
  readonly cacheDir: string;
}): Promise<CatalogLayer> {
  if (input.files.size > maxLayerFiles) throw new CatalogError('CATALOG_LIMIT', '', `more than ${maxLayerFiles} files`);
  const configs = relativeDir(input.configsDir);
  const cache = relativeDir(input.cacheDir);
  const entries = new Map<string, Buffer | 'dir'>([
    [`${configs}/`, 'dir'],
    [`${configs}/.wh..wh..opq`, Buffer.alloc(0)],
  ]);
  for (const [path, bytes] of input.files) {
    const parts = checkPath(path).split('/');
    for (let i = 1; i < parts.length; i++) entries.set(`${configs}/${parts.slice(0, i).join('/')}/`, 'dir');
    entries.set(`${configs}/${parts.join('/')}`, bytes);
  }
  const slash = cache.lastIndexOf('/');
  entries.set(`${cache.slice(0, slash + 1)}.wh.${cache.slice(slash + 1)}`, Buffer.alloc(0));

  const names = [...entries.keys()].sort(compareStrings);
  const tar = await packTar(names.map((name) => [name, entries.get(name)!]));
  const bytes = gzipSync(tar, { level: 9 });
  return {
    bytes,
    digest: digestOf(bytes),
    size: bytes.length,
    diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` as Digest,
    entries: names,
  };
}

async function packTar(entries: readonly (readonly [string, Buffer | 'dir'])[]): Promise<Buffer> {
  const tar = pack();
  const common = { uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0) };
  for (const [name, content] of entries) {
    if (content === 'dir') tar.entry({ ...common, name, type: 'directory', mode: 0o755 });
    else tar.entry({ ...common, name, type: 'file', mode: 0o644, size: content.length }, content);
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `/configs` → `configs`; refuses the root and `..`. */
function relativeDir(dir: string): string {
  const rel = dir.replace(/^\/+/, '').replace(/\/+$/, '');
  if (rel === '' || rel.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new CatalogError('CATALOG_INVALID', dir, 'not a usable directory for the catalog layer');
  }
  return rel;
}

function checkPath(path: string): string {
  if (path === '' || path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new CatalogError('CATALOG_INVALID', path, 'catalog file path must be relative and normalised');
  }
  return path;
}
