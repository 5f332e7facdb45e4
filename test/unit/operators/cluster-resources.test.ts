import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  catalogResourceName,
  formatCatalogSource,
  formatClusterCatalog,
} from '../../../functions/mirror/operators/cluster-resources.js';

// oc-mirror's expectations (clusterresources_test.go "Testing GenerateCatalogSource",
// "Testing GenerateClusterCatalog"): cs-/cc-<last repository component>-<tag or 12 digest hex>.

const digest = 'sha256:7c4ef7434c97c8aaf6cd310874790b915b3c61fc902eea255f9177058ea9aff3';
const rebuilt = `mirror.invalid:5000/my-org/redhat/redhat-operator-index@${digest}`;

describe('catalogResourceName', () => {
  it.each([
    ['cs', rebuilt, 'cs-redhat-operator-index-7c4ef7434c97'],
    ['cc', 'myregistry/mynamespace/redhat/redhat-operator-index:v4.15', 'cc-redhat-operator-index-v4-15'],
    ['cs', 'myregistry/ns/certified-operator-index:V4.16_Beta.Long.Tag', 'cs-certified-operator-index-v4-16-beta-l'],
    ['cc', `myregistry/ns/catalog:v1@${digest}`, 'cc-catalog-v1'],
  ] as const)('%s of %s is %s', (prefix, reference, name) => {
    expect(catalogResourceName(prefix, reference)).toBe(name);
  });

  it('refuses a name that is no DNS label', () => {
    expect(() => catalogResourceName('cs', 'myregistry/ns/my_catalog:v1')).toThrow(
      expect.objectContaining({ name: 'CatalogError', code: 'CATALOG_INVALID' }),
    );
  });
});

describe('formatCatalogSource', () => {
  it('is the CatalogSource oc-mirror writes, pointing at the rebuilt catalog by digest', () => {
    const file = formatCatalogSource(rebuilt);
    expect(file.name).toBe('cs-redhat-operator-index-7c4ef7434c97.yaml');
    expect(parse(file.yaml)).toEqual({
      apiVersion: 'operators.coreos.com/v1alpha1',
      kind: 'CatalogSource',
      metadata: {
        annotations: { createdBy: 'ferry' },
        name: 'cs-redhat-operator-index-7c4ef7434c97',
        namespace: 'openshift-marketplace',
      },
      spec: { image: rebuilt, sourceType: 'grpc' },
    });
    expect(file.yaml.split('\n')[0]).toBe('apiVersion: operators.coreos.com/v1alpha1');
  });
});

describe('formatClusterCatalog', () => {
  it('is the OLM v1 ClusterCatalog oc-mirror writes', () => {
    const file = formatClusterCatalog(rebuilt);
    expect(file.name).toBe('cc-redhat-operator-index-7c4ef7434c97.yaml');
    expect(parse(file.yaml)).toEqual({
      apiVersion: 'olm.operatorframework.io/v1',
      kind: 'ClusterCatalog',
      metadata: { annotations: { createdBy: 'ferry' }, name: 'cc-redhat-operator-index-7c4ef7434c97' },
      spec: { priority: 0, source: { image: { ref: rebuilt }, type: 'Image' } },
    });
  });
});
