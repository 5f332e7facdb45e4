import { FerryError } from '../oci/errors.js';

/**
 * The run service's errors: one family on the registry library's {@link FerryError} base (a
 * stable `name`, a `code`, `retryable`, `{cause}`). The names are a contract: the API's error
 * mapping (handlers/api) matches these classes, and the Lambda runtime reports `errorType =
 * error.name` to the state machine, so a name never changes.
 */
export const AppErrorNames = {
  badRequest: 'BadRequestError',
  runNotFound: 'RunNotFoundError',
  imageSetNotFound: 'ImageSetNotFoundError',
  conflict: 'ConflictError',
  scheduleBusy: 'ScheduleBusyError',
  idempotencyConflict: 'IdempotencyConflictError',
  idempotencyInProgress: 'IdempotencyInProgressError',
  runCancelled: 'RunCancelledError',
  invalidToken: 'InvalidTokenError',
  ecrScope: 'EcrScopeError',
  credential: 'CredentialError',
} as const;

/** A request the caller got wrong: answered 400 with this message, nothing written. */
export class BadRequestError extends FerryError {
  override readonly name = AppErrorNames.badRequest;
  readonly code = 'BAD_REQUEST';
}

/** A pagination token that this API did not issue (answered 400). */
export class InvalidTokenError extends FerryError {
  override readonly name = AppErrorNames.invalidToken;
  readonly code = 'INVALID_TOKEN';
}

/** No run has this id (answered 404). Not the registry's NotFoundError: this one is about Ferry's runs. */
export class RunNotFoundError extends FerryError {
  override readonly name = AppErrorNames.runNotFound;
  readonly code = 'RUN_NOT_FOUND';
  constructor(readonly runId: string) {
    super(`run ${runId} not found`);
  }
}

/** The request conflicts with the run's or the key's state (answered 409). */
export class ConflictError extends FerryError {
  override readonly name = AppErrorNames.conflict;
  readonly code = 'CONFLICT';
}

/** A schedule's previous run is still in progress: no second run is started. */
export class ScheduleBusyError extends FerryError {
  override readonly name = AppErrorNames.scheduleBusy;
  readonly code = 'SCHEDULE_BUSY';
  constructor(
    readonly schedule: string,
    readonly heldBy: string,
  ) {
    super(`run ${heldBy} of schedule ${schedule} is still in progress`);
  }
}

/** The caller used this Idempotency-Key before for a different request. */
export class IdempotencyConflictError extends FerryError {
  override readonly name = AppErrorNames.idempotencyConflict;
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly key: string) {
    super(`Idempotency-Key "${key}" was already used for a different request; use a new key for a new run`);
  }
}

/**
 * Another request with this caller's key (the same request: a concurrent retry) is still writing
 * its run: retry shortly, it will answer with that run. Never a second run for one key.
 */
export class IdempotencyInProgressError extends FerryError {
  override readonly name = AppErrorNames.idempotencyInProgress;
  readonly code = 'IDEMPOTENCY_IN_PROGRESS';
  constructor(readonly key: string) {
    super(`Idempotency-Key "${key}": a request with this key is still being processed; retry in a few seconds`, {
      retryable: true,
    });
  }
}

/** The reason a copy stops when its run is cancelled. */
export class RunCancelledError extends FerryError {
  override readonly name = AppErrorNames.runCancelled;
  readonly code = 'RUN_CANCELLED';
  constructor(readonly runId: string) {
    super(`run ${runId} was cancelled`);
  }
}

/** An ECR repository this deployment may not touch. Never retryable. */
export class EcrScopeError extends FerryError {
  override readonly name = AppErrorNames.ecrScope;
  readonly code = 'ECR_OUT_OF_SCOPE';
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/**
 * A registry credential Ferry may not use: unreadable, malformed, or bound to another registry.
 * Never retryable; the image (or, at Plan, the run) fails with this one-line message.
 */
export class CredentialError extends FerryError {
  override readonly name = AppErrorNames.credential;
  readonly code: 'CREDENTIAL_NOT_BOUND' | 'CREDENTIAL_INVALID' | 'CREDENTIAL_UNREADABLE';
  constructor(code: CredentialError['code'], message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: false });
    this.code = code;
  }
}

/** No image set has this name (answered 404, as {@link RunNotFoundError}). */
export class ImageSetNotFoundError extends FerryError {
  override readonly name = AppErrorNames.imageSetNotFound;
  readonly code = 'IMAGE_SET_NOT_FOUND';
  constructor(readonly setName: string) {
    super(`image set ${setName} not found`);
  }
}
