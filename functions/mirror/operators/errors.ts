import { FerryError } from '../../oci/errors.js';

/** The stable name of {@link CatalogError} (the Lambda runtime reports it as `errorType`). */
export const catalogErrorName = 'CatalogError';

/**
 * Why a catalog was refused: `CATALOG_INVALID` (a document that does not parse or does not fit its
 * schema, a channel without a single head or with a cycle, a bundle version that is not semver),
 * `CATALOG_FILTER_INVALID` (a selection oc-mirror refuses: unknown package or channel, version
 * ranges that exclude each other or empty the default channel, `full` with a range) or
 * `CATALOG_LIMIT` (a catalog larger than the limits).
 */
export type CatalogErrorCode = 'CATALOG_INVALID' | 'CATALOG_FILTER_INVALID' | 'CATALOG_LIMIT';

/**
 * A file-based catalog, or a selection over it, that Ferry refuses. `where` names the file and
 * document (`aws-lb/catalog.json#3`), or the package and channel, and the message starts with it.
 */
export class CatalogError extends FerryError {
  override readonly name = catalogErrorName;
  constructor(
    readonly code: CatalogErrorCode,
    readonly where: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(where === '' ? `catalog: ${why}` : `catalog: ${where}: ${why}`, options);
  }
}
