import { FerryError } from '../../oci/errors.js';

/** The stable name of {@link ReleaseError}. */
export const releaseErrorName = 'ReleaseError';

/**
 * An OpenShift release Ferry cannot mirror: a payload without its manifests or with components
 * not named by digest, an update graph that does not parse, a channel or range with no release,
 * or an architecture a release image does not hold.
 */
export class ReleaseError extends FerryError {
  override readonly name = releaseErrorName;
  constructor(
    readonly code:
      | 'RELEASE_PAYLOAD_INVALID'
      | 'RELEASE_ARCH_MISSING'
      | 'UPDATE_GRAPH_INVALID'
      | 'UPDATE_GRAPH_EMPTY'
      | 'RESPONSE_TOO_LARGE'
      | 'URL_REFUSED'
      | 'RELEASE_SIGNATURE_INVALID',
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
  }
}
