import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../oci/errors.js';
import { joinHostPort, unbracket } from '../oci/host-port.js';
import { isLoopbackHost } from '../oci/transport.js';

/** A refused request: the status and the one-line message `ferry serve` answers with. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

/** The request headers the guard reads (Node's lower-cased names). */
export interface GuardedRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Methods that change nothing: no Content-Type rule for them. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The shortest token accepted: a guessable token would be no defence on a network. */
export const minTokenLength = 16;

/**
 * Checks `ferry serve`'s listen options before anything starts: a token is required when the
 * API is reachable from other machines, and must not be guessable.
 */
export function checkServeExposure(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < minTokenLength) {
    throw new UsageError(`--token must be at least ${minTokenLength} characters (or set FERRY_SERVE_TOKEN)`);
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new UsageError(
      `--host ${host} is not a loopback address: anyone who reaches it could start runs with your credentials; pass --token TOKEN (or set FERRY_SERVE_TOKEN), or listen on 127.0.0.1`,
    );
  }
}

/**
 * Guards `ferry serve` against the browser and the network (the deployed API relies on API
 * Gateway's IAM auth instead):
 * - `Host` must name the address served — a DNS-rebinding page reaches 127.0.0.1 under its own name;
 * - `Origin`, when sent, must be that address — a page elsewhere may not drive the API;
 * - state-changing requests must be `application/json` (or `application/yaml`) — the content types a cross-site form or
 *   `fetch` may send without a CORS preflight are refused, and the preflight is never answered;
 * - with a token, `Authorization: Bearer TOKEN` on every request (compared in constant time).
 */
export class RequestGuard {
  readonly #hosts: ReadonlySet<string> | undefined;
  readonly #tokenHash: Buffer | undefined;
  readonly #served: string;

  /**
   * @param host the --host value; `port` the port actually bound. For a wildcard address
   *   (0.0.0.0, ::) every Host is accepted: there is no one name to check, and a token is required.
   */
  constructor(host: string, port: number, token: string | undefined) {
    const bare = unbracket(host).toLowerCase();
    const wildcard = bare === '0.0.0.0' || bare === '::';
    this.#served = joinHostPort(bare, port);
    this.#hosts = wildcard
      ? undefined
      : new Set([
          this.#served,
          ...(isLoopbackHost(host) ? ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`) : []),
        ]);
    this.#tokenHash = token === undefined ? undefined : digest(token);
  }

  /** The refusal for this request, or undefined when it may go on to the API. */
  check(req: GuardedRequest): Refusal | undefined {
    const host = single(req.headers.host)?.toLowerCase();
    if (this.#hosts && (host === undefined || !this.#hosts.has(host))) {
      return {
        status: 421,
        message: `Host ${host === undefined ? '(none)' : `"${host}"`} is not the address ferry serve listens on (${this.#served}); refused (DNS rebinding protection)`,
      };
    }
    const origin = single(req.headers.origin);
    if (origin !== undefined && !this.#sameOrigin(origin, host)) {
      return {
        status: 403,
        message: `Origin "${origin}" is not ferry serve's own (http://${host ?? this.#served}); cross-site requests are refused`,
      };
    }
    if (this.#tokenHash) {
      const presented = /^Bearer ([^\s]+)$/i.exec(single(req.headers.authorization) ?? '')?.[1];
      if (presented === undefined || !timingSafeEqual(digest(presented), this.#tokenHash)) {
        return {
          status: 401,
          message: 'Authorization: Bearer TOKEN (the --token ferry serve was started with) is required',
          headers: { 'www-authenticate': 'Bearer realm="ferry"' },
        };
      }
    }
    if (!safeMethods.has(req.method.toUpperCase())) {
      const type = single(req.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
      // YAML too (an image-set document as the body): like JSON, no cross-site form can send it.
      if (type !== 'application/json' && type !== 'application/yaml') {
        return {
          status: 415,
          message: `Content-Type: application/json is required for ${req.method} (got ${type === undefined || type === '' ? 'none' : `"${type}"`})`,
        };
      }
    }
    return undefined;
  }

  /** Same origin: plain http and the host:port the request came to (which the Host check accepted). */
  #sameOrigin(origin: string, host: string | undefined): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // "null" (sandboxed frames, file: pages) and garbage
    }
    return url.protocol === 'http:' && url.pathname === '/' && url.host === (host ?? this.#served);
  }

  /** Who calls: the token's identity, so idempotency keys of token holders and of others never mix. */
  caller(): string {
    return this.#tokenHash
      ? `ferry-serve:token-${this.#tokenHash.subarray(0, 8).toString('hex')}`
      : 'ferry-serve:local';
  }
}

/** Hashing first makes the compared buffers equal in length whatever was presented. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
