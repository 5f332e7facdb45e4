import { FerryError } from '../../oci/errors.js';

/** The stable name of {@link HelmError}. */
export const helmErrorName = 'HelmError';

/**
 * A Helm chart Ferry cannot mirror: a repository index that does not parse or lacks the chart
 * version, a chart archive that is not one (or is larger than allowed), a digest that does not
 * match the index, or a chart URL Ferry refuses to fetch.
 */
export class HelmError extends FerryError {
  override readonly name = helmErrorName;
  constructor(
    readonly code:
      | 'HELM_INDEX_INVALID'
      | 'HELM_CHART_NOT_FOUND'
      | 'HELM_CHART_INVALID'
      | 'HELM_DIGEST_MISMATCH'
      | 'HELM_TOO_LARGE'
      | 'HELM_URL_REFUSED',
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
  }
}

/** Caps on what a chart repository sends (a hostile repository must not fill memory). */
export const helmLimits = {
  /** `index.yaml` bytes (large public repositories' indexes are a few tens of MB). */
  indexBytes: 64 * 1024 * 1024,
  /** A chart `.tgz`. */
  chartBytes: 32 * 1024 * 1024,
  /** One file of a chart, decompressed (helm's `MaxDecompressedFileSize`: 5 MiB). */
  fileBytes: 5 * 1024 * 1024,
  /** A chart decompressed (helm's `MaxDecompressedChartSize`: 100 MiB). */
  chartFilesBytes: 100 * 1024 * 1024,
  /** Tar entries of a chart. */
  entries: 10_000,
  /** Redirects followed for one GET (GitHub release assets redirect once). */
  redirects: 5,
} as const;
