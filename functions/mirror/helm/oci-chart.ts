import { type Digest, digestOf } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/manifest.js';
import { goJson } from '../../oci/go-json.js';
import type { ChartMetadata } from './chart-metadata.js';

// The OCI artifact `helm push` writes (helm pkg/registry/client.go Push, chart.go
// generateOCIAnnotations): config = json.Marshal(Chart.yaml's metadata) as
// application/vnd.cncf.helm.config.v1+json, one layer = the .tgz bytes unchanged as
// application/vnd.cncf.helm.chart.content.v1.tar+gzip, and an ocispec.Manifest marshalled by Go —
// `schemaVersion`, `config`, `layers`, `annotations` in that order, no `mediaType` and no
// `artifactType` field (the registry is told the type by Content-Type). The tag is the version
// with `+` as `_` (OCI tags have no `+`; helm turns it back on pull).

/** helm's `ConfigMediaType`. */
export const helmConfigMediaType = 'application/vnd.cncf.helm.config.v1+json';
/** helm's `ChartLayerMediaType`. */
export const helmChartLayerMediaType = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
/** The manifest's media type (`Content-Type` of the PUT). */
export const ociManifestMediaType = 'application/vnd.oci.image.manifest.v1+json';

/** The blobs and manifest of one chart pushed as `helm push` would. */
export interface OciChart {
  readonly config: { readonly descriptor: Descriptor; readonly bytes: Buffer };
  readonly layer: { readonly descriptor: Descriptor; readonly bytes: Buffer };
  /** The manifest's exact bytes and digest. */
  readonly manifest: Buffer;
  readonly digest: Digest;
  /** `<version>` with `+` → `_`. */
  readonly tag: string;
}

/** A chart version as an OCI tag (helm's reference.go: `+` is not allowed in tags, `_` stands for it). */
export function chartTag(version: string): string {
  return version.replaceAll('+', '_');
}

/**
 * The manifest annotations helm sets: description, title, version, url (home), created, source
 * (first of sources), authors (`Name (email)`, comma separated), each only when not blank; then
 * Chart.yaml's own annotations, which may replace any of them but title and version.
 */
export function chartAnnotations(meta: ChartMetadata, created: string): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (key: string, value: string | undefined): void => {
    if (value !== undefined && value.trim() !== '') out[key] = value;
  };
  add('org.opencontainers.image.description', meta.description);
  add('org.opencontainers.image.title', meta.name);
  add('org.opencontainers.image.version', meta.version);
  add('org.opencontainers.image.url', meta.home);
  add('org.opencontainers.image.created', created);
  add('org.opencontainers.image.source', meta.sources[0]);
  if (meta.maintainers.length > 0)
    add(
      'org.opencontainers.image.authors',
      meta.maintainers.map((m) => `${m.name ?? ''}${m.email ? ` (${m.email})` : ''}`).join(', '),
    );
  for (const [key, value] of Object.entries(meta.annotations)) {
    if (key === 'org.opencontainers.image.title' || key === 'org.opencontainers.image.version') continue;
    out[key] = value;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** RFC 3339 in UTC to the second, as Go's `time.RFC3339` formats a UTC time. */
export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The artifact of `helm push` for a chart archive: `created` is when the archive's Chart.yaml was
 * written (helm push uses the .tgz file's modification time; the archive's own time keeps the
 * result a function of the chart bytes, so a second run finds the same digest at the destination).
 */
export function buildOciChart(meta: ChartMetadata, tgz: Buffer, created: Date): OciChart {
  const config = {
    descriptor: { mediaType: helmConfigMediaType, digest: digestOf(meta.configJson), size: meta.configJson.length },
    bytes: meta.configJson,
  };
  const layer = {
    descriptor: { mediaType: helmChartLayerMediaType, digest: digestOf(tgz), size: tgz.length },
    bytes: tgz,
  };
  const manifest = Buffer.from(
    goJson({
      schemaVersion: 2,
      config: config.descriptor,
      layers: [layer.descriptor],
      annotations: chartAnnotations(meta, rfc3339(created)),
    }),
    'utf8',
  );
  return { config, layer, manifest, digest: digestOf(manifest), tag: chartTag(meta.version) };
}
