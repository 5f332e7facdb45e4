import { FerryError } from '../../oci/errors.js';

/** The stable name of {@link ImageSetError} (the API maps it to 400; the Lambda runtime reports it as `errorType`). */
export const imageSetErrorName = 'ImageSetError';

/**
 * An image-set document that Ferry refuses: malformed YAML/JSON, an unknown field, a reference,
 * regular expression, semver range, count or platform that does not parse, or a limit exceeded.
 * `path` names the offending field as `mirror.repositories[2].tags.semvr` (empty for the document
 * itself), and the message starts with it.
 */
export class ImageSetError extends FerryError {
  override readonly name = imageSetErrorName;
  readonly code = 'IMAGE_SET_INVALID';
  constructor(
    readonly path: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(path === '' ? `image set: ${why}` : `image set: ${path}: ${why}`, options);
  }
}
