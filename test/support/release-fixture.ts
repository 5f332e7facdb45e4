import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { parseManifest } from '../../functions/oci/manifest.js';
import { type BuiltManifest, buildImage, push, type Rng } from './fixtures.js';
import type { MemoryRepository } from './memory-repository.js';

// Fake OpenShift release content (issue 10): payload layers, release images naming fixture
// components by digest, and an update-graph server on loopback. Nothing here reaches a public name.

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

/** One component as a payload names it. */
export interface PayloadComponent {
  readonly name: string;
  /** A reference by digest. */
  readonly image: string;
}

/** `release-manifests/image-references`: an ImageStream as `oc adm release new` writes it. */
export function imageReferences(version: string, components: readonly PayloadComponent[]): object {
  return {
    kind: 'ImageStream',
    apiVersion: 'image.openshift.io/v1',
    metadata: { name: version, creationTimestamp: null },
    spec: {
      lookupPolicy: { local: false },
      tags: components.map((c) => ({
        name: c.name,
        annotations: { 'io.openshift.build.source-location': 'https://example.invalid/openshift' },
        from: { kind: 'DockerImage', name: c.image },
        generation: null,
        importPolicy: {},
        referencePolicy: { type: '' },
      })),
    },
    status: { dockerImageRepository: '' },
  };
}

/** The payload layer: a filler file first (the reader must skip it), then the two manifests. */
export async function payloadLayer(
  version: string,
  components: readonly PayloadComponent[],
  options: { references?: string; metadata?: string } = {},
): Promise<Buffer> {
  return tarLayer([
    { name: 'release-manifests/0000_00_cluster-version-operator_00_namespace.yaml', data: 'kind: Namespace\n' },
    { name: 'filler.bin', data: Buffer.alloc(8192, 1) },
    { name: 'release-manifests/', type: 'directory' },
    {
      name: 'release-manifests/image-references',
      data: options.references ?? JSON.stringify(imageReferences(version, components)),
    },
    {
      name: 'release-manifests/release-metadata',
      data:
        options.metadata ??
        JSON.stringify({
          kind: 'cincinnati-metadata-v0',
          version,
          previous: [],
          metadata: { url: 'https://x.invalid' },
        }),
    },
  ]);
}

/** A release image: a base layer, then the payload layer (as real release images stack them). */
export async function releaseImage(
  version: string,
  components: readonly PayloadComponent[],
  architecture: string,
  options: { references?: string; metadata?: string } = {},
): Promise<BuiltManifest> {
  const base = await tarLayer([{ name: 'usr/bin/cluster-version-operator', data: `cvo ${architecture}` }]);
  return buildImage({
    layers: [base, await payloadLayer(version, components, options)],
    platform: { os: 'linux', architecture },
    annotations: { 'io.openshift.release': version },
  });
}

/** Stores a built manifest (children and blobs first) in a MemoryRepository, byte for byte. */
export function storeBuilt(repo: MemoryRepository, built: BuiltManifest, tag?: string): void {
  for (const child of built.children) storeBuilt(repo, child);
  for (const b of built.blobs) repo.blobs.set(b.digest, b.data);
  const manifest = parseManifest(built.bytes, built.mediaType);
  repo.manifests.set(manifest.digest, manifest);
  if (tag !== undefined) repo.tags.set(tag, manifest.digest);
}

/** A fake update service on 127.0.0.1: `GET /graph?channel=&arch=` answers `graphs["<channel> <arch>"]`, else 404. */
export interface GraphServer {
  readonly url: string;
  /** Every request's path and query, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startGraphServer(graphs: Readonly<Record<string, object>>): Promise<GraphServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const graph =
      url.pathname === '/graph'
        ? graphs[`${url.searchParams.get('channel')} ${url.searchParams.get('arch')}`]
        : undefined;
    if (graph === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Error","reason":"InvalidChannel"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(graph));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graph`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A graph as Cincinnati serves it: nodes with metadata, edges from each version to every later one. */
export function graphOf(nodes: readonly { version: string; payload: string }[]): object {
  return {
    nodes: nodes.map((n) => ({ ...n, metadata: { 'io.openshift.upgrades.graph.release.channels': 'stable-4.17' } })),
    edges: nodes.flatMap((_, from) => nodes.map((__, to) => [from, to]).filter(([f, t]) => f! < t!)),
    conditionalEdges: [],
  };
}

/** What {@link pushReleases} put in the source registry: each release and the components it names. */
export interface PushedRelease {
  readonly version: string;
  /** `amd64` / `arm64` (the set's name) and `x86_64` / `aarch64` (the tag's). */
  readonly arch: string;
  readonly tagArch: string;
  /** `<host>/<ns>/ocp-release@<digest>`. */
  readonly payload: string;
  readonly digest: string;
  readonly components: readonly (PayloadComponent & { readonly digest: string })[];
}

/**
 * Pushes a release fixture to a registry (with plain fetch, independent of Ferry): per arch, `count`
 * small component images in `<ns>/ocp-v4.0-art-dev` (by digest), and per version × arch a release
 * image `<ns>/ocp-release:<version>-<tagArch>` naming them. Versions share every component but the
 * first `changed`, which are new images in each version.
 */
export async function pushReleases(options: {
  baseUrl: string;
  host: string;
  ns: string;
  rng: Rng;
  versions: readonly string[];
  archs: readonly { arch: string; oci: string; tagArch: string }[];
  count: number;
  changed: number;
}): Promise<PushedRelease[]> {
  const { baseUrl, host, ns, rng } = options;
  const out: PushedRelease[] = [];
  for (const { arch, oci, tagArch } of options.archs) {
    const shared = new Map<string, BuiltManifest>();
    for (const [v, version] of options.versions.entries()) {
      const components: (PayloadComponent & { digest: string })[] = [];
      for (let i = 0; i < options.count; i++) {
        const name = `component-${String(i).padStart(2, '0')}`;
        let image = shared.get(name);
        if (image === undefined || (i < options.changed && v > 0)) {
          image = buildImage({ layers: [rng.bytes(64 + rng.int(64))], platform: { os: 'linux', architecture: oci } });
          shared.set(name, image);
          await push(baseUrl, `${ns}/ocp-v4.0-art-dev`, image.digest, image);
        }
        components.push({ name, image: `${host}/${ns}/ocp-v4.0-art-dev@${image.digest}`, digest: image.digest });
      }
      const release = await releaseImage(version, components, oci);
      await push(baseUrl, `${ns}/ocp-release`, `${version}-${tagArch}`, release);
      out.push({
        version,
        arch,
        tagArch,
        payload: `${host}/${ns}/ocp-release@${release.digest}`,
        digest: release.digest,
        components,
      });
    }
  }
  return out;
}
