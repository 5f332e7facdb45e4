import { stringify } from 'yaml';
import { parseLocation } from '../../oci/reference.js';
import { mirroredEntries, type WorkspaceEntry } from './entry.js';

// The mirror sets a cluster applies to pull from the mirror: oc-mirror v2's cluster-resources/.
// Source: internal/pkg/clusterresources/clusterresources.go (IDMS_ITMSGenerator, generateIDMS,
// generateITMS, generateImageMirrors, writeMirrorSet) and its tests (clusterresources_test.go),
// docs/features/cluster-resources.md in github.com/openshift/oc-mirror.

/** Folder of the workspace that holds the mirror sets (oc-mirror's `clusterResourcesDir`). */
export const clusterResourcesDir = 'cluster-resources';
/** oc-mirror's `idmsFileName`. */
export const idmsFileName = 'idms-oc-mirror.yaml';
/** oc-mirror's `itmsFileName`. */
export const itmsFileName = 'itms-oc-mirror.yaml';

const apiVersion = 'config.openshift.io/v1';

/**
 * One `spec.imageDigestMirrors[]` / `spec.imageTagMirrors[]` item: a source repository and the
 * repositories that mirror it.
 */
export interface MirrorGroup {
  readonly source: string;
  readonly mirrors: readonly string[];
}

/**
 * The mirrors of the entries mirrored by digest (`byDigest: true`) or by tag, one group per source
 * repository, sources sorted (oc-mirror walks a Go map, so its order varies run to run; a sorted
 * file diffs cleanly), each group's mirrors deduplicated in the order first seen. Blocked and
 * failed entries are left out: oc-mirror builds these sets from the images it copied. Entries whose
 * source or destination is an `oci:` layout have no registry to redirect and are left out too.
 *
 * Scope is the repository, as issue 9 pins (oc-mirror's `forceRepositoryScope`, which it uses with
 * `--max-nested-paths`; by default it widens to the namespace when the destination path ends with
 * the source path): a cluster is redirected for exactly the repositories the set mirrored.
 */
export function groupMirrors(entries: readonly WorkspaceEntry[], byDigest: boolean): MirrorGroup[] {
  const groups = new Map<string, string[]>();
  for (const entry of mirroredEntries(entries)) {
    if (entry.byDigest !== byDigest) continue;
    const source = repositoryOf(entry.source);
    const mirror = repositoryOf(entry.destination);
    if (source === undefined || mirror === undefined) continue;
    const mirrors = groups.get(source) ?? [];
    if (!mirrors.includes(mirror)) mirrors.push(mirror);
    groups.set(source, mirrors);
  }
  return [...groups.keys()].sort(compareStrings).map((source) => ({ source, mirrors: groups.get(source)! }));
}

/**
 * `cluster-resources/idms-oc-mirror.yaml`: an `ImageDigestMirrorSet` for the images mirrored by
 * digest, or `undefined` when there are none (oc-mirror then writes no file).
 *
 * @see github.com/openshift/oc-mirror internal/pkg/clusterresources/clusterresources.go
 *   (IDMS_ITMSGenerator, generateIDMS, generateImageMirrors, writeMirrorSet), its
 *   clusterresources_test.go ("GenerateIDMS"), and docs/features/cluster-resources.md.
 */
export function formatIdms(entries: readonly WorkspaceEntry[]): string | undefined {
  return formatMirrorSet('ImageDigestMirrorSet', 'idms-generic-0', 'imageDigestMirrors', groupMirrors(entries, true));
}

/**
 * `cluster-resources/itms-oc-mirror.yaml`: an `ImageTagMirrorSet` for the images mirrored by tag,
 * or `undefined` when there are none.
 *
 * @see github.com/openshift/oc-mirror internal/pkg/clusterresources/clusterresources.go
 *   (generateITMS) and clusterresources_test.go ("GenerateITMS").
 */
export function formatItms(entries: readonly WorkspaceEntry[]): string | undefined {
  return formatMirrorSet('ImageTagMirrorSet', 'itms-generic-0', 'imageTagMirrors', groupMirrors(entries, false));
}

/**
 * One mirror set document. The name is oc-mirror's for its `generic` category (additionalImages:
 * `"idms-" + category + "-0"`), which is what every image of a Ferry set is. The document starts
 * with `---` as oc-mirror's writeMirrorSet writes it. oc-mirror also annotates `createdAt` and its
 * version; Ferry writes `createdBy` only, so that a run that changed nothing rewrites the same bytes.
 * YAML 1.1 quoting, because the cluster's readers are Go YAML 1.1 parsers (`yes`, `on`, `1:20`
 * stay strings).
 */
function formatMirrorSet(
  kind: 'ImageDigestMirrorSet' | 'ImageTagMirrorSet',
  name: string,
  field: 'imageDigestMirrors' | 'imageTagMirrors',
  groups: readonly MirrorGroup[],
): string | undefined {
  if (groups.length === 0) return undefined;
  const document = {
    apiVersion,
    kind,
    metadata: { name, annotations: { createdBy: 'ferry' } },
    spec: { [field]: groups.map((g) => ({ source: g.source, mirrors: [...g.mirrors] })) },
  };
  return `---\n${stringifyYaml(document)}`;
}

/** YAML as the workspace writes it: no folding, YAML 1.1 quoting, sequences indented as oc-mirror's docs show them. */
export function stringifyYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, version: '1.1' });
}

/** `registry/repository` of a registry reference; undefined for an `oci:` layout. */
function repositoryOf(reference: string): string | undefined {
  const location = parseLocation(reference);
  return location.kind === 'registry' ? `${location.ref.registry}/${location.ref.repository}` : undefined;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
