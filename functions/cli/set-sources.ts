/** What the CLI reads an image set's sources through: one set of ports for `ferry mirror --config` and `ferry prune --config`. */
import type { ImageSet } from '../mirror/image-set/document.js';
import type { SetSources } from '../mirror/image-set/expand.js';
import { transportBytesGetter } from '../mirror/helm/http.js';
import { transportJsonGetter } from '../mirror/release/graph-http.js';
import { type ImageReference, parseImageReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import { localChartReader } from './mirror-charts.js';
import type { Runtime } from './runtime.js';

/** The registries a set reads from: its images' and repositories', its release's and its catalogs'. */
export function sourceRegistries(set: ImageSet): string[] {
  const names = [
    ...set.additionalImages.map((i) => i.name),
    ...set.repositories.map((r) => r.name),
    ...(set.platform?.release === undefined ? [] : [set.platform.release]),
    ...(set.operators ?? []).map((o) => o.catalog),
  ];
  return [...new Set(names.map((name) => parseImageReference(name).registry))];
}

/**
 * The ports `expandImageSetContent` reads a set through, on `runtime`: source repositories (tags,
 * release payloads, catalogs) with source credentials, the update graph and chart repositories
 * over the runtime's transport (its CA and proxy), local charts from disk.
 */
export function setSources(runtime: Runtime): SetSources {
  const source = (ref: ImageReference): Repository =>
    runtime.registries.repository({ kind: 'registry', ref }, 'source');
  const graph = transportJsonGetter(runtime.transport);
  return {
    listTags: (ref) => source(ref).listTags(),
    repository: source,
    getJson: (url) => graph.getJson(url),
    ...transportBytesGetter(runtime.transport),
    ...localChartReader,
  };
}
