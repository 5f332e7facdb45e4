import { type CatalogArtifact } from '../mirror/operators/expand-operators.js';
import {
  type ClusterResourceFile,
  formatCatalogSource,
  formatClusterCatalog,
} from '../mirror/operators/cluster-resources.js';
import { publishCatalog } from '../mirror/operators/push-catalog.js';
import type { MirrorOptions } from '../mirror/mirror.js';
import type { ImageCopier } from '../mirror/copy-image.js';
import { describeError } from '../oci/errors.js';
import { parseImageReference } from '../oci/reference.js';
import type { Registries } from '../oci/registries.js';

// `ferry mirror --config` with `mirror.operators`: after the images, each rebuilt catalog is
// pushed (the original copied by digest through the copier, then the new layer, config,
// manifests and index, tagged) and its CatalogSource / ClusterCatalog written.

/** What pushing one catalog gave: the line printed, and its cluster resources (none when it failed). */
export interface CatalogOutcome {
  readonly source: string;
  readonly destination: string;
  readonly status: 'copied' | 'skipped' | 'failed';
  /** The rebuilt catalog's digest. */
  readonly digest?: string;
  readonly error?: string;
  readonly clusterResources: readonly ClusterResourceFile[];
}

/**
 * Pushes every catalog in order. One that fails is reported and the next one still runs; the
 * caller exits 1. `options` are the copy options of the run (platforms dropped: a catalog is
 * copied whole, every platform, so that its index can be rebuilt).
 */
export async function pushCatalogs(
  artifacts: readonly CatalogArtifact[],
  registries: Registries,
  copier: ImageCopier,
  options: MirrorOptions,
): Promise<CatalogOutcome[]> {
  const out: CatalogOutcome[] = [];
  for (const artifact of artifacts) out.push(await pushCatalog(artifact, registries, copier, options));
  return out;
}

async function pushCatalog(
  artifact: CatalogArtifact,
  registries: Registries,
  copier: ImageCopier,
  options: MirrorOptions,
): Promise<CatalogOutcome> {
  const base = { source: artifact.source, destination: artifact.destination };
  const target = parseImageReference(artifact.destination);
  const { platforms: _all, ...copyOptions } = options;
  try {
    const pushed = await publishCatalog(
      artifact,
      copier,
      registries.image({ kind: 'registry', ref: parseImageReference(artifact.sourceDigest) }, 'source'),
      registries.repository({ kind: 'registry', ref: target }, 'destination'),
      copyOptions,
    );
    // Named after the tag (stable from run to run, as oc-mirror names them), pulled by the digest.
    const image = `${target.registry}/${target.repository}:${target.tag}@${pushed.digest}`;
    return {
      ...base,
      status: pushed.status === 'pushed' ? 'copied' : 'skipped',
      digest: pushed.digest,
      clusterResources: [formatCatalogSource(image), formatClusterCatalog(image)],
    };
  } catch (err) {
    return { ...base, status: 'failed', error: describeError(err), clusterResources: [] };
  }
}

/** How `ferry mirror` prints a catalog's outcome: a JSON line, or a line like an image's. */
export function describeCatalog(outcome: CatalogOutcome, json: boolean): string {
  if (json)
    return JSON.stringify({
      source: outcome.source,
      destination: outcome.destination,
      kind: 'operator-catalog',
      status: outcome.status,
      ...(outcome.digest === undefined ? {} : { digest: outcome.digest }),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
  if (outcome.status === 'failed')
    return `failed   catalog ${outcome.source} → ${outcome.destination}: ${outcome.error}`;
  const what = outcome.status === 'copied' ? 'rebuilt' : 'current';
  return `${what}  catalog ${outcome.source} → ${outcome.destination} ${outcome.digest}`;
}
