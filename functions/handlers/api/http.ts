import type { Logger } from '../../oci/log.js';
import { lambdaResponseLimitBytes } from '../../runs/limits.js';
import { ImageSetError } from '../../mirror/image-set/errors.js';
import { CatalogError } from '../../mirror/operators/errors.js';
import {
  BadRequestError,
  ConflictError,
  ImageSetNotFoundError,
  InvalidTokenError,
  RunNotFoundError,
} from '../../runs/errors.js';

/** The part of an API Gateway (REST, proxy) event the routes read; `ferry serve` builds the same. */
export interface ApiEvent {
  readonly httpMethod: string;
  readonly path: string;
  readonly headers?: Record<string, string | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  /** Who called: API Gateway's IAM identity; `ferry serve` fills `caller` with its own (token or local). */
  readonly requestContext?: {
    readonly identity?: Readonly<Record<'userArn' | 'caller' | 'accountId', string | null | undefined>> | null;
  } | null;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export const json = (statusCode: number, body: unknown): ApiResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const text = (statusCode: number, body: string): ApiResponse => ({
  statusCode,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body,
});

/** The query parameters of a request (none: an empty object). */
export function queryOf(event: ApiEvent): Readonly<Record<string, string | undefined>> {
  return event.queryStringParameters ?? {};
}

/**
 * A page of a text output (`/mapping`, `/errors`): the lines, and when there are more, the next
 * page's token twice — in `Link: <…>; rel="next"` (RFC 8288, as GitHub's API pages: `curl -sD-`
 * shows where to go on) and in `x-ferry-next-token` for scripts.
 */
export function pagedText(path: string, event: ApiEvent, page: { text: string; nextToken?: string }): ApiResponse {
  const response = text(200, page.text);
  if (page.nextToken === undefined) return response;
  const limit = queryOf(event).limit;
  const next = new URLSearchParams({ ...(limit === undefined ? {} : { limit }), nextToken: page.nextToken });
  return {
    ...response,
    headers: {
      ...response.headers,
      link: `<${path}?${next.toString()}>; rel="next"`,
      'x-ferry-next-token': page.nextToken,
    },
  };
}

/** What a response takes in the Lambda's result (the API Gateway proxy result as JSON), in bytes. */
export function resultBytes(response: ApiResponse): number {
  return Buffer.byteLength(JSON.stringify(response));
}

/**
 * A response that would pass Lambda's 6 MB limit is answered with a 422 saying so, never sent:
 * Lambda would fail the invocation and API Gateway answer a bare 502. Outputs that page stay far
 * below the limit; this catches the ones that are one document (a huge run's IDMS or plan).
 */
export function withinResponseLimit(response: ApiResponse, path: string): ApiResponse {
  const bytes = resultBytes(response);
  if (bytes <= lambdaResponseLimitBytes) return response;
  return json(422, {
    message: `${path}: the response would be ${bytes} bytes, more than the API returns in one response (${lambdaResponseLimitBytes}); page the run's images with GET ${path.replace(/\/[a-z-]+$/, '')}/images or use the CLI`,
  });
}

/** A header, case-insensitively. */
export function header(event: ApiEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/**
 * The caller an Idempotency-Key belongs to: the IAM principal API Gateway authenticated (its
 * ARN, else its caller id, else its account), so one caller's key never returns another's run.
 */
export function callerOf(event: ApiEvent): string {
  const identity = event.requestContext?.identity;
  const who = identity?.userArn ?? identity?.caller ?? identity?.accountId;
  return who ?? 'anonymous';
}

/** The largest request body accepted (a 10,000-image run fits comfortably); `ferry serve` stops reading beyond it. */
export const maxBodyBytes = 1024 * 1024;

/** The request body as text (API Gateway base64-encodes binary media types), or null when there is none. */
export function bodyOf(event: ApiEvent): string | null {
  if (event.body === null || event.body === undefined) return null;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * The request's JSON body as a value for a use case to validate: 400 when it is missing, larger
 * than {@link maxBodyBytes} or not JSON.
 */
export function parseJsonBody(event: ApiEvent): unknown {
  const body = bodyOf(event);
  if (body === null || body.trim() === '') throw new BadRequestError('request body is required (JSON)');
  if (Buffer.byteLength(body) > maxBodyBytes)
    throw new BadRequestError(`request body is larger than ${maxBodyBytes} bytes`);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
}

/** The status of each error of the app family the API answers with its message; the rest are 500s. */
const statusOf: readonly (readonly [new (...args: never[]) => Error, number])[] = [
  [BadRequestError, 400],
  [InvalidTokenError, 400],
  [RunNotFoundError, 404],
  [ImageSetNotFoundError, 404],
  [ConflictError, 409],
  [CatalogError, 400],
];

/** Typed errors → status codes; anything else is a 500 that says nothing internal. */
export function errorResponse(err: unknown, logger: Logger): ApiResponse {
  // An image-set document Ferry refuses: 400 with the path of the field, for clients to point at.
  if (err instanceof ImageSetError) return json(400, { message: err.message, path: err.path });
  const status = statusOf.find(([type]) => err instanceof type)?.[1];
  if (status !== undefined && err instanceof Error) return json(status, { message: err.message });
  logger.warn('request failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  return json(500, { message: 'internal error' });
}
