/**
 * Typed errors of the registry library. Every class sets a stable `name`: the Lambda runtime
 * reports `errorType = error.name`, and the state machine's Retry/Catch match on it
 * (see {@link ErrorNames}, which `infra/` imports too).
 */
export const ErrorNames = {
  invalidReference: 'InvalidReferenceError',
  registry: 'RegistryError',
  authentication: 'AuthenticationError',
  notFound: 'NotFoundError',
  manifestInvalid: 'ManifestInvalidError',
  digestMismatch: 'DigestMismatchError',
  transport: 'TransportError',
  usage: 'UsageError',
  localPath: 'LocalPathError',
  tagList: 'TagListError',
  deleteDisabled: 'DeleteDisabledError',
  uploadUnknown: 'UploadUnknownError',
  pullBudget: 'PullBudgetError',
} as const;

/** Names of the errors a retry may cure. */
export const RetryableErrorNames: readonly string[] = [ErrorNames.transport, ErrorNames.digestMismatch];

/** Base class: a stable `name`, a `code`, and whether retrying may help. */
export abstract class FerryError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean;
  /**
   * Set by the retry layer that gave up on this error (attempts or the host's budget spent):
   * nothing above it — the blob ladder, the state machine — retries it again (see `isRetryable`).
   */
  retriesExhausted = false;
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options?.retryable ?? false;
  }
}

/** A malformed image reference or digest: the caller's input is wrong. */
export class InvalidReferenceError extends FerryError {
  override readonly name = ErrorNames.invalidReference;
  readonly code = 'INVALID_REFERENCE';
}

/** Bad command-line or API input other than a reference. */
export class UsageError extends FerryError {
  override readonly name = ErrorNames.usage;
  readonly code = 'USAGE';
}

export interface RegistryErrorDetails {
  registry: string;
  repository?: string;
  status?: number;
  /** Spec error codes from the response body (`MANIFEST_UNKNOWN`, `DENIED`, …). */
  codes?: string[];
  retryable?: boolean;
  cause?: unknown;
}

/** The registry answered with an error status. Bodies are capped; URLs never carry credentials. */
export class RegistryError extends FerryError {
  override readonly name: string = ErrorNames.registry;
  readonly code: string;
  readonly registry: string;
  readonly repository: string | undefined;
  readonly status: number | undefined;
  readonly codes: string[];
  constructor(message: string, details: RegistryErrorDetails) {
    const status = details.status;
    const retryable =
      details.retryable ?? (status === 408 || status === 429 || (status !== undefined && status >= 500));
    super(message, { cause: details.cause, retryable });
    this.registry = details.registry;
    this.repository = details.repository;
    this.status = status;
    this.codes = details.codes ?? [];
    this.code = this.codes[0] ?? (status === undefined ? 'REGISTRY' : `HTTP_${status}`);
  }
}

/** 401/403 after authenticating, or a credential the registry refuses. */
export class AuthenticationError extends RegistryError {
  override readonly name = ErrorNames.authentication;
}

/** Manifest or blob unknown to the registry. */
export class NotFoundError extends RegistryError {
  override readonly name = ErrorNames.notFound;
}

/**
 * A tag list Ferry will not follow or read: a `Link` to another origin (code `LINK_CROSS_ORIGIN`),
 * more pages than allowed (`TOO_MANY_PAGES`), or a body that is not a tag list (`TAG_LIST_INVALID`).
 * Permanent: asking again gets the same answer.
 */
export class TagListError extends RegistryError {
  override readonly name = ErrorNames.tagList;
  constructor(message: string, details: RegistryErrorDetails) {
    super(message, { ...details, retryable: false });
  }
}

/** The registry refuses to delete manifests (405: docker-registry without `storage.delete.enabled`). */
export class DeleteDisabledError extends RegistryError {
  override readonly name = ErrorNames.deleteDisabled;
  constructor(message: string, details: RegistryErrorDetails) {
    super(message, { ...details, codes: ['DELETE_DISABLED', ...(details.codes ?? [])], retryable: false });
  }
}

/**
 * The registry does not know an upload session (404 `BLOB_UPLOAD_UNKNOWN`: expired, purged, or a
 * registry that lost its state), or disagrees with the offset Ferry holds (416). The blob restarts
 * from byte 0 in a new session, once; retrying the same session cannot help.
 */
export class UploadUnknownError extends RegistryError {
  override readonly name = ErrorNames.uploadUnknown;
  constructor(message: string, details: RegistryErrorDetails) {
    super(message, { ...details, codes: ['BLOB_UPLOAD_UNKNOWN', ...(details.codes ?? [])], retryable: false });
  }
}

/**
 * An upstream's pull budget (Docker Hub's rate limit) is spent and resets later than the copy may
 * wait. Not retryable: a retry seconds or minutes later finds the same budget; the window's end
 * is in the message, and a later run copies what this one could not.
 */
export class PullBudgetError extends RegistryError {
  override readonly name = ErrorNames.pullBudget;
  constructor(message: string, details: RegistryErrorDetails) {
    super(message, { ...details, codes: ['PULL_BUDGET', ...(details.codes ?? [])], retryable: false });
  }
}

/** A transport failure (reset, timeout, truncated body) that a retry may cure. */
export class TransportError extends RegistryError {
  override readonly name = ErrorNames.transport;
  constructor(message: string, details: RegistryErrorDetails) {
    super(message, { ...details, retryable: details.retryable ?? true });
  }
}

/** A manifest Ferry will not handle: schema 1, too large, malformed. */
export class ManifestInvalidError extends FerryError {
  override readonly name = ErrorNames.manifestInvalid;
  readonly code = 'MANIFEST_INVALID';
}

/** A local file or directory (an `oci:` layout) that cannot be read or written: permanent, fails at once. */
export class LocalPathError extends FerryError {
  override readonly name = ErrorNames.localPath;
  readonly code = 'LOCAL_PATH';
}

/** Content did not hash to, or was not the size of, its descriptor. */
export class DigestMismatchError extends FerryError {
  override readonly name = ErrorNames.digestMismatch;
  readonly code = 'DIGEST_MISMATCH';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: true });
  }
}

/**
 * An error and the causes below it, outermost first, `depth` levels at most (Node's and undici's
 * network errors wrap their cause one or two levels down; a cycle cannot loop for ever). A cause
 * that is not an Error is yielded and ends the chain.
 */
export function* causes(err: unknown, depth = 4): Generator<unknown> {
  let current = err;
  for (let level = 0; current !== undefined && level < depth; level++) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

/** One line for a user: the message and the causes below it, never a stack. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (const cause of causes(err)) {
    const text = cause instanceof Error ? cause.message : String(cause);
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  return parts.join(': ');
}

/** The `code`s of an error and of the causes below it (Node's and undici's network errors carry one). */
export function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (const cause of causes(err)) {
    const code = cause instanceof Error ? (cause as { code?: unknown }).code : undefined;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}
