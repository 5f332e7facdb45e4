import { describe, expect, it } from 'vitest';
import { type ApiEvent, errorResponse, maxBodyBytes, parseJsonBody } from '../../functions/handlers/api/http.js';
import { CatalogError } from '../../functions/mirror/operators/errors.js';
import { NotFoundError, TransportError, UsageError } from '../../functions/oci/errors.js';
import type { Logger } from '../../functions/oci/log.js';
import {
  BadRequestError,
  ConflictError,
  CredentialError,
  EcrScopeError,
  IdempotencyConflictError,
  InvalidTokenError,
  RunCancelledError,
  RunNotFoundError,
  ScheduleBusyError,
} from '../../functions/runs/errors.js';

/** A logger that keeps what it was told. */
function recordingLogger(): Logger & { warnings: unknown[] } {
  const warnings: unknown[] = [];
  return {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (message, fields) => warnings.push({ message, ...fields }),
  };
}

describe('errorResponse maps the app error family to statuses', () => {
  it.each([
    ['BadRequestError', new BadRequestError('images[0]: bad'), 400],
    ['InvalidTokenError', new InvalidTokenError('nextToken: not a token'), 400],
    ['RunNotFoundError', new RunNotFoundError('r-1'), 404],
    ['ConflictError', new ConflictError('run r-1 is completed'), 409],
    ['CatalogError', new CatalogError('CATALOG_FILTER_INVALID', 'delta', 'package not found in the catalog'), 400],
  ])('%s → %i with its message', (_name, err, status) => {
    const logger = recordingLogger();
    const response = errorResponse(err, logger);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({ message: err.message });
    expect(logger.warnings).toEqual([]);
  });

  it.each([
    // The registry's NotFoundError shares a word with RunNotFoundError, not its status: a missing
    // image during a request is the service's failure, never a "no such run".
    ['the registry’s NotFoundError', new NotFoundError('manifest unknown', { registry: 'r.example', status: 404 })],
    ['a TransportError', new TransportError('reset', { registry: 'r.example' })],
    ['a UsageError', new UsageError('no registry for region x')],
    ['an app error the API does not answer with', new ScheduleBusyError('nightly', 'r-1')],
    ['IdempotencyConflictError unwrapped', new IdempotencyConflictError('k')],
    ['EcrScopeError', new EcrScopeError('outside the prefixes')],
    ['CredentialError', new CredentialError('CREDENTIAL_INVALID', 'secret x is malformed')],
    ['RunCancelledError', new RunCancelledError('r-1')],
    ['a plain Error', new Error('secret internals')],
    ['a thrown string', 'boom'],
  ])('%s → 500 that says nothing internal, logged', (_name, err) => {
    const logger = recordingLogger();
    const response = errorResponse(err, logger);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ message: 'internal error' });
    expect(logger.warnings).toHaveLength(1);
  });
});

describe('parseJsonBody: the HTTP decoding the use cases no longer see', () => {
  const event = (body: string | null, isBase64Encoded = false): ApiEvent => ({
    httpMethod: 'POST',
    path: '/v1/runs',
    body,
    isBase64Encoded,
  });
  const refusal = (e: ApiEvent): unknown => {
    try {
      parseJsonBody(e);
    } catch (err) {
      return err;
    }
    throw new Error('expected a refusal');
  };

  it('returns the JSON value, decoding base64 bodies', () => {
    const value = { images: ['a.example/x:1'], n: 1 };
    expect(parseJsonBody(event(JSON.stringify(value)))).toEqual(value);
    expect(parseJsonBody(event(Buffer.from(JSON.stringify(value)).toString('base64'), true))).toEqual(value);
  });

  it.each([
    ['no body', event(null), 'request body is required (JSON)'],
    ['a blank body', event('  \n'), 'request body is required (JSON)'],
    ['not JSON', event('{"images":'), 'request body is not valid JSON'],
    [
      'one byte over the limit',
      event(`"${'x'.repeat(maxBodyBytes - 1)}"`),
      `request body is larger than ${maxBodyBytes} bytes`,
    ],
  ])('%s is a BadRequestError (400)', (_name, e, message) => {
    const err = refusal(e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ name: 'BadRequestError', code: 'BAD_REQUEST', message });
  });

  it('takes a body of exactly the limit', () => {
    expect(parseJsonBody(event(`"${'x'.repeat(maxBodyBytes - 2)}"`))).toHaveLength(maxBodyBytes - 2);
  });
});
