import type { PackageFilter } from './filter.js';

/**
 * One `mirror.operators[]` entry (oc-mirror v2alpha1's `Operator`): a catalog image, where its
 * rebuilt copy goes, and what to select from it (`full`, `packages`, as parseCatalogFilter reads them).
 */
export interface OperatorCatalogSpec {
  /** The catalog image, by tag or digest (`registry.redhat.io/redhat/redhat-operator-index:v4.17`). */
  readonly catalog: string;
  /** Destination path of the rebuilt catalog under `<registry>/<prefix>`; default: the catalog's own path. */
  readonly targetCatalog?: string;
  /** Tag of the rebuilt catalog; default: the catalog's tag. */
  readonly targetTag?: string;
  readonly full?: boolean;
  readonly packages?: readonly PackageFilter[];
}
