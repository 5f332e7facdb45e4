import { digestHex } from '../../oci/digest.js';
import { formatReference, parseImageReference } from '../../oci/reference.js';
import { stringifyYaml } from '../workspace/cluster-resources.js';
import { CatalogError } from './errors.js';

// The CatalogSource (OLM v0) and ClusterCatalog (OLM v1) a cluster applies to use a mirrored
// catalog, as oc-mirror v2 writes them: github.com/openshift/oc-mirror
// internal/pkg/clusterresources/clusterresources.go (generateCatalogSource, generateClusterCatalog,
// toRFC1035, isValidRFC1123, hashTruncLen = 12), the types in
// internal/pkg/api/operator-framework/{v1alpha1/catalogsource_types.go,v1/clustercatalog_types.go},
// and clusterresources_test.go. oc-mirror marshals them through a map (sigs.k8s.io/yaml), so keys
// are sorted; `spec.priority: 0` of the ClusterCatalog has no omitempty and is written. Like the
// mirror sets of the workspace, the annotations are `createdBy: ferry` only (no timestamp), so that
// a run that changed nothing rewrites the same bytes.

/** oc-mirror's hashTruncLen: how much of a digest or tag names the resource. */
const hashTruncLen = 12;
const annotations = { createdBy: 'ferry' } as const;

/** A file of `cluster-resources/`: its name and YAML. */
export interface ClusterResourceFile {
  readonly name: string;
  readonly yaml: string;
}

/**
 * `<prefix>-<last path component of the repository>-<suffix>`, dots replaced by dashes, where the
 * suffix is the first 12 hex characters of the digest for a reference by digest only, else the
 * first 12 characters of the tag lowercased with anything but `[a-z0-9-]` made `-` (toRFC1035),
 * else `0`. A name that is neither a DNS-1035 label nor an RFC 1123 name is refused, as oc-mirror does.
 */
export function catalogResourceName(prefix: 'cs' | 'cc', reference: string): string {
  const ref = parseImageReference(reference);
  let suffix: string;
  if (ref.digest !== undefined && ref.tag === undefined) suffix = digestHex(ref.digest).slice(0, hashTruncLen);
  else
    suffix = (ref.tag ?? '')
      .slice(0, hashTruncLen)
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-');
  if (suffix === '') suffix = '0';
  const name = `${prefix}-${ref.repository.split('/').pop()!}-${suffix}`.replaceAll('.', '-');
  const dns1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 63;
  const rfc1123 = /^[a-zA-Z0-9][-a-zA-Z0-9]*[a-zA-Z0-9]$/.test(name) && name.length <= 63;
  if (!dns1035 && !rfc1123)
    throw new CatalogError('CATALOG_INVALID', reference, `"${name}" is not a valid resource name`);
  return name;
}

/**
 * `cluster-resources/cs-<…>.yaml`: a `CatalogSource` in `openshift-marketplace`, `sourceType: grpc`,
 * whose image is `catalogReference` (the rebuilt catalog by digest).
 */
export function formatCatalogSource(catalogReference: string): ClusterResourceFile {
  const image = formatReference(parseImageReference(catalogReference));
  const name = catalogResourceName('cs', image);
  const document = {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'CatalogSource',
    metadata: { annotations: { ...annotations }, name, namespace: 'openshift-marketplace' },
    spec: { image, sourceType: 'grpc' },
  };
  return { name: `${name}.yaml`, yaml: stringifyYaml(document) };
}

/** `cluster-resources/cc-<…>.yaml`: an OLM v1 `ClusterCatalog` whose source is the image `catalogReference`. */
export function formatClusterCatalog(catalogReference: string): ClusterResourceFile {
  const ref = formatReference(parseImageReference(catalogReference));
  const name = catalogResourceName('cc', ref);
  const document = {
    apiVersion: 'olm.operatorframework.io/v1',
    kind: 'ClusterCatalog',
    metadata: { annotations: { ...annotations }, name },
    spec: { priority: 0, source: { image: { ref }, type: 'Image' } },
  };
  return { name: `${name}.yaml`, yaml: stringifyYaml(document) };
}
