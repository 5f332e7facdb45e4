import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { NetworkGuard } from './network-guard.js';
import type { Agent as AgentType, Dispatcher } from 'undici';
// Only the connection pool and `request` are needed: importing them alone keeps fetch, WebSocket,
// caches and the mock agent out of the CLI bundle (half of undici, ~40 ms of start-up a run).
// WARNING: deep imports; test/unit/undici-deep-import.test.ts checks they match the package's API.
import AgentClass from 'undici/lib/dispatcher/agent.js';
import requestFunction from 'undici/lib/api/api-request.js';

const Agent = AgentClass as unknown as typeof AgentType;
type Agent = AgentType;
const undiciRequest = requestFunction as unknown as (this: Agent, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
import { sharedBufferPool } from './buffer-pool.js';
import { errorCodes, TransportError } from './errors.js';
import { streamExchange } from './stream-exchange.js';
import { Header } from './media-types.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';

export interface TransportOptions {
  /** Hosts (`host[:port]`) reached over plain HTTP or without TLS verification, as the caller marked them. */
  readonly insecureHosts?: Iterable<string>;
  /** Extra CA certificates (PEM) trusted for TLS. */
  readonly ca?: string | Buffer;
  /** Registry host → base URL overrides (VPC endpoints, proxies, test stand-ins). */
  readonly endpoints?: ReadonlyMap<string, string>;
  readonly userAgent?: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Connections kept per origin. */
  readonly connections?: number;
  /**
   * The longest silence while waiting for a response head or between reads of a body, on both
   * paths (undici's headersTimeout/bodyTimeout, the pooled exchange's socket timeout); default
   * 60 s. A stalled registry fails with a retryable {@link TransportError} instead of hanging.
   */
  readonly idleTimeoutMs?: number;
  /** The deployed service's SSRF guard; the CLI and `ferry serve` run without one. */
  readonly guard?: NetworkGuard;
  /**
   * Blob bodies of at least this many bytes stream on a connection of their own with pooled
   * buffers instead of through undici (default 1 MiB; `Infinity` turns it off). See
   * {@link streamExchange}.
   */
  readonly streamThreshold?: number;
}

/** Default {@link TransportOptions.idleTimeoutMs}. */
export const defaultIdleTimeoutMs = 60_000;

export type RequestBody = string | Buffer | Readable | null;

/** A registry host's answer to `GET /v2/`. */
export interface PingResult {
  readonly base: URL;
  readonly status: number;
  readonly wwwAuthenticate: string | undefined;
}

export interface HttpRequest {
  readonly method: Dispatcher.HttpMethod;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: RequestBody;
  readonly signal?: AbortSignal;
  /** For a blob GET: the bytes the response will carry (an upload's size is its Content-Length). */
  readonly streamBytes?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Readable;
  readonly url: URL;
}

/**
 * The HTTP layer: one keep-alive connection pool per origin, TLS settings per host, scheme
 * resolution (plain HTTP only for insecure and loopback hosts, as Docker does), no automatic
 * redirects — callers follow them so that `Authorization` never crosses hosts.
 */
export class Transport {
  readonly retry: RetryPolicy;
  readonly userAgent: string;
  readonly #secure: Agent;
  readonly #insecure: Agent;
  readonly #insecureHosts: Set<string>;
  readonly #endpoints: ReadonlyMap<string, string>;
  readonly #bases = new Map<string, Promise<URL>>();
  readonly #pings = new Map<string, Promise<PingResult>>();
  readonly #guard: NetworkGuard | undefined;
  readonly #ca: string | Buffer | undefined;
  readonly #streamThreshold: number;
  readonly #idleTimeoutMs: number;
  readonly #closing = new AbortController();

  constructor(options: TransportOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
    // A TLS handshake that never answers is silence too: undici's 10 s connect bound, or less.
    const idle = { headersTimeout: this.#idleTimeoutMs, bodyTimeout: this.#idleTimeoutMs, connectTimeout: Math.min(10_000, this.#idleTimeoutMs) };
    const pool = { connections: options.connections ?? 16, keepAliveTimeout: 30_000, ...idle };
    const lookup = options.guard ? { lookup: options.guard.lookup } : {};
    this.#secure = new Agent({ ...pool, connect: { ...lookup, ...(options.ca === undefined ? {} : { ca: options.ca }) } });
    this.#insecure = new Agent({ ...pool, connect: { ...lookup, rejectUnauthorized: false } });
    this.#guard = options.guard;
    this.#ca = options.ca;
    this.#streamThreshold = options.streamThreshold ?? 1 << 20;
    this.#insecureHosts = new Set([...(options.insecureHosts ?? [])].map((h) => h.toLowerCase()));
    this.#endpoints = options.endpoints ?? new Map();
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.userAgent = options.userAgent ?? 'ferry/0.1';
  }

  /** Whether TLS may be skipped for a host: marked insecure, or loopback. */
  isInsecure(host: string): boolean {
    const lower = host.toLowerCase();
    return this.#insecureHosts.has(lower) || this.#insecureHosts.has(stripPort(lower)) || isLoopbackHost(lower);
  }

  /**
   * The base URL of a registry host. An endpoint override wins; secure hosts use https; insecure
   * and loopback hosts try https first and fall back to plain http (cached per host).
   */
  baseUrl(host: string): Promise<URL> {
    let base = this.#bases.get(host);
    if (!base) {
      base = this.#resolveBase(host);
      this.#bases.set(host, base);
      base.catch(() => this.#bases.delete(host));
    }
    return base;
  }

  async #resolveBase(host: string): Promise<URL> {
    const override = this.#endpoints.get(host);
    if (override !== undefined) return new URL(override.endsWith('/') ? override : `${override}/`);
    const https = new URL(`https://${host}/`);
    if (!this.isInsecure(host)) return https;
    // Both schemes are tried at once; https wins whenever it answers, as Docker prefers it. The
    // winning answer is the host's ping (the auth challenge), so /v2/ is not asked for again.
    const http = this.#probe(new URL(`http://${host}/`));
    http.catch(() => undefined);
    let chosen: PingResult;
    try {
      chosen = await this.#probe(https);
    } catch {
      try {
        chosen = await http;
      } catch {
        return new URL(`http://${host}/`);
      }
    }
    this.#pings.set(host, Promise.resolve(chosen));
    return chosen.base;
  }

  /**
   * `GET /v2/` of a host, once per transport: its status and `WWW-Authenticate` tell how to
   * authenticate. Shared by every client of the host (sources and destinations alike).
   */
  async ping(host: string): Promise<PingResult> {
    const base = await this.baseUrl(host);
    let ping = this.#pings.get(host);
    if (!ping) {
      ping = this.#probe(base);
      this.#pings.set(host, ping);
      ping.catch(() => this.#pings.delete(host));
    }
    return ping;
  }

  async #probe(base: URL): Promise<PingResult> {
    const res = await this.send({ method: 'GET', url: new URL('v2/', base) });
    res.body.resume();
    return { base, status: res.status, wwwAuthenticate: headerValue(res.headers, Header.wwwAuthenticate) };
  }

  /** One request, no retry, no redirect following. The caller must consume or destroy `body`. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    // IP literals never reach the resolver: check them here (names are checked at connect time).
    const literal = req.url.hostname.replace(/^\[|\]$/g, '');
    const refused = this.#guard && isIP(literal) !== 0 ? this.#guard.refusal(literal, literal) : undefined;
    if (refused) throw new TransportError(`${req.method} ${redactUrl(req.url)}: refused: ${refused}`, { registry: req.url.host, retryable: false });
    const insecure = this.isInsecure(req.url.host);
    const headers: Record<string, string> = { [Header.userAgent]: this.userAgent, ...req.headers };
    try {
      if (this.#streams(req)) {
        const res = await streamExchange({ method: req.method, url: req.url, headers, body: req.body instanceof Readable ? req.body : null, signal: req.signal }, {
          rejectUnauthorized: !insecure, ca: this.#ca, lookup: this.#guard?.lookup, pool: sharedBufferPool, idleTimeoutMs: this.#idleTimeoutMs,
        });
        return { ...res, url: req.url };
      }
      const res = await undiciRequest.call(insecure ? this.#insecure : this.#secure, {
        origin: req.url.origin,
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers,
        body: req.body ?? null,
        signal: req.signal,
        // undici closes the connection after every HEAD unless told otherwise (a guard against
        // servers that send a body with HEAD). Registries do not, and Ferry's ladder is mostly
        // HEADs: without this each costs a new connection — a TLS handshake on real registries.
        ...(req.method === 'HEAD' ? { reset: false } : {}),
      });
      return { status: res.statusCode, headers: res.headers, body: res.body, url: req.url };
    } catch (err) {
      if (req.signal?.aborted) throw err;
      // Requests still in flight when the command is done (a sibling lookup of a copy that failed) are not retried.
      if (this.#closing.signal.aborted) throw new TransportError(`${req.method} ${redactUrl(req.url)}: the transport was closed`, { registry: req.url.host, retryable: false, cause: err });
      if (errorCodes(err).includes('EFERRYDENIED')) throw new TransportError(`${req.method} ${redactUrl(req.url)}: ${networkMessage(err)}`, { registry: req.url.host, retryable: false, cause: err });
      // A failing request body (a digest check, a source that broke) is the real cause.
      if (req.body instanceof Readable && req.body.errored) throw req.body.errored;
      if (errorCodes(err).some((code) => certificateCode.test(code))) {
        // Retrying cannot make a certificate trusted: fail at once, and say what would.
        throw new TransportError(`${req.method} ${redactUrl(req.url)}: ${networkMessage(err)} (certificate not trusted: add its CA, or mark ${req.url.host} insecure)`, {
          registry: req.url.host, retryable: false, cause: err,
        });
      }
      const idle = errorCodes(err).includes('UND_ERR_HEADERS_TIMEOUT') ? `no response within ${this.#idleTimeoutMs / 1000} s (idle timeout)` : undefined;
      throw new TransportError(`${req.method} ${redactUrl(req.url)}: ${idle ?? networkMessage(err)}`, { registry: req.url.host, cause: err });
    }
  }

  /** Whether a request moves a blob large enough for {@link streamExchange}: a blob GET, or a streamed upload of known length. */
  #streams(req: HttpRequest): boolean {
    const bytes = req.body instanceof Readable ? Number(req.headers?.[Header.contentLength]) : req.method === 'GET' ? req.streamBytes : undefined;
    return bytes !== undefined && bytes >= this.#streamThreshold;
  }

  /** Aborted by {@link close}: retries waiting on it stop at once instead of outliving the command. */
  get closed(): AbortSignal {
    return this.#closing.signal;
  }

  async close(): Promise<void> {
    this.#closing.abort(new TransportError('the transport was closed', { registry: '-', retryable: false }));
    await Promise.all([this.#secure.close(), this.#insecure.close()]);
  }
}

/** TLS verification failures (Node's and OpenSSL's codes): permanent for this configuration. */
const certificateCode = /^(CERT_|ERR_TLS_CERT|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH)/;

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** localhost, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = stripPort(host.toLowerCase());
  return name === 'localhost' || name === '::1' || name === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** A URL for messages: no query (upload state, signed-URL credentials), no userinfo. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function networkMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const inner = err.cause instanceof Error ? err.cause.message : '';
  return [typeof code === 'string' ? code : '', err.message, inner].filter((s) => s !== '').join(' ');
}

/** Reads at most `limit` bytes of a body as text and discards the rest. */
export async function readCapped(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (total < limit) chunks.push(chunk.subarray(0, limit - total));
    total += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
