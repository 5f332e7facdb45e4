import { describe, expect, it } from 'vitest';
import { FerryError } from '../../functions/oci/errors.js';
import {
  AppErrorNames,
  BadRequestError,
  ConflictError,
  CredentialError,
  EcrScopeError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  InvalidTokenError,
  RunCancelledError,
  RunNotFoundError,
  ScheduleBusyError,
} from '../../functions/runs/errors.js';

describe('the app error family', () => {
  // name, code and retryable are a contract (the state machine and the API see them): pinned here.
  it.each([
    [new BadRequestError('x'), 'BadRequestError', 'BAD_REQUEST', false],
    [new InvalidTokenError('x'), 'InvalidTokenError', 'INVALID_TOKEN', false],
    [new RunNotFoundError('r'), 'RunNotFoundError', 'RUN_NOT_FOUND', false],
    [new ConflictError('x'), 'ConflictError', 'CONFLICT', false],
    [new ScheduleBusyError('s', 'r'), 'ScheduleBusyError', 'SCHEDULE_BUSY', false],
    [new IdempotencyConflictError('k'), 'IdempotencyConflictError', 'IDEMPOTENCY_CONFLICT', false],
    [new IdempotencyInProgressError('k'), 'IdempotencyInProgressError', 'IDEMPOTENCY_IN_PROGRESS', true],
    [new RunCancelledError('r'), 'RunCancelledError', 'RUN_CANCELLED', false],
    [new EcrScopeError('x'), 'EcrScopeError', 'ECR_OUT_OF_SCOPE', false],
    [new CredentialError('CREDENTIAL_NOT_BOUND', 'x'), 'CredentialError', 'CREDENTIAL_NOT_BOUND', false],
  ])('%o is a FerryError named %s, code %s, retryable %s', (err, name, code, retryable) => {
    expect(err).toBeInstanceOf(FerryError);
    expect(err).toBeInstanceOf(Error);
    expect({ name: err.name, code: err.code, retryable: err.retryable }).toEqual({ name, code, retryable });
    expect(Object.values(AppErrorNames)).toContain(name);
  });

  it('every name in AppErrorNames is distinct, ends in Error and clashes with no registry error name', async () => {
    const { ErrorNames } = await import('../../functions/oci/errors.js');
    const names = Object.values(AppErrorNames);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.endsWith('Error'))).toBe(true);
    expect(names.filter((n) => (Object.values(ErrorNames) as string[]).includes(n))).toEqual([]);
  });

  it('keeps the cause and the values callers read', () => {
    const cause = new IdempotencyConflictError('k-9');
    const wrapped = new ConflictError(cause.message, { cause });
    expect(wrapped.cause).toBe(cause);
    expect(new ScheduleBusyError('nightly', 'r-1')).toMatchObject({ schedule: 'nightly', heldBy: 'r-1' });
    expect(new RunNotFoundError('r-2')).toMatchObject({ runId: 'r-2', message: 'run r-2 not found' });
    expect(new RunCancelledError('r-3')).toMatchObject({ runId: 'r-3' });
  });
});
