import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { isLoopbackName } from './ip-address.js';
import { stripPort } from './host-port.js';
import { deniedCode, type NetworkGuard } from './network-guard.js';
import type { Agent as AgentType, Dispatcher } from 'undici';
// Only the connection pool and `request` are needed: importing them alone keeps fetch, WebSocket,
// caches and the mock agent out of the CLI bundle (half of undici, ~40 ms of start-up a run).
// WARNING: deep imports; test/unit/undici-deep-import.test.ts checks they match the package's API.
import AgentClass from 'undici/lib/dispatcher/agent.js';
import requestFunction from 'undici/lib/api/api-request.js';

const Agent = AgentClass as unknown as typeof AgentType;
type Agent = AgentType;
const undiciRequest = requestFunction as unknown as (
  this: Agent,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;
import { sharedBufferPool } from './buffer-pool.js';
import { dockerHubRegistry } from './reference.js';
import { causes, errorCodes, TransportError } from './errors.js';
import { streamExchange } from './stream-exchange.js';
import { Header } from './media-types.js';
import {
  type Clock,
  defaultRetryPolicy,
  type RetryBudgetOptions,
  RetryBudgets,
  type RetryPolicy,
  systemClock,
} from './retry.js';
import { ProxyRoutes, type ProxySettings } from './proxy.js';
import { ProxyAgents, proxyFailureOf, resolveTarget } from './proxy-agents.js';

export interface TransportOptions {
  /** Hosts (`host[:port]`) reached over plain HTTP or without TLS verification, as the caller marked them. */
  readonly insecureHosts?: Iterable<string>;
  /**
   * Hosts (`host[:port]`) reached over https only, their certificates verified, even on loopback
   * (`--tls-verify`). The more specific entry wins over `insecureHosts` (`host:port` over `host`);
   * at equal specificity, verification does.
   */
  readonly verifyHosts?: Iterable<string>;
  /** Extra CA certificates (PEM) trusted for TLS, besides the public roots Node ships. */
  readonly ca?: string | Buffer;
  /** Registry host → base URL overrides (VPC endpoints, proxies, test stand-ins). */
  readonly endpoints?: ReadonlyMap<string, string>;
  readonly userAgent?: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Retries per host (a token bucket shared by every request to it, and by the blob ladder). */
  readonly retryBudget?: Partial<RetryBudgetOptions>;
  /** Time for retry delays and budgets (tests inject a fake one). */
  readonly clock?: Clock;
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
  /**
   * Forward proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, read by the composition root).
   * https targets go through a `CONNECT` tunnel, http targets as absolute-form requests; loopback
   * is always direct. The SSRF guard checks the target, never the proxy (operator configuration),
   * and the proxy is then sent the checked address instead of the name.
   */
  readonly proxy?: ProxySettings;
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
  /** The one retry policy of the requests sent through this transport (applied by `RegistryClient`). */
  readonly retry: RetryPolicy;
  /** Per-host retry budgets: hand them to `BlobCopier` too, so its decisions draw on the same ones. */
  readonly budgets: RetryBudgets;
  readonly userAgent: string;
  readonly #secure: Agent;
  readonly #insecure: Agent;
  readonly #insecureHosts: Set<string>;
  readonly #verifyHosts: Set<string>;
  readonly #endpoints: ReadonlyMap<string, string>;
  readonly #bases = new Map<string, Promise<URL>>();
  readonly #pings = new Map<string, Promise<PingResult>>();
  readonly #guard: NetworkGuard | undefined;
  readonly #ca: string | Buffer | undefined;
  readonly #streamThreshold: number;
  readonly #idleTimeoutMs: number;
  readonly #closing = new AbortController();
  readonly #proxies: ProxyRoutes;
  readonly #proxied: ProxyAgents;

  constructor(options: TransportOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
    // A TLS handshake that never answers is silence too: undici's 10 s connect bound, or less.
    const idle = {
      headersTimeout: this.#idleTimeoutMs,
      bodyTimeout: this.#idleTimeoutMs,
      connectTimeout: Math.min(10_000, this.#idleTimeoutMs),
    };
    const pool = { connections: options.connections ?? 16, keepAliveTimeout: 30_000, ...idle };
    const lookup = options.guard ? { lookup: options.guard.lookup } : {};
    const ca = options.ca === undefined ? undefined : withPublicRoots(options.ca);
    this.#secure = new Agent({ ...pool, connect: { ...lookup, ...(ca === undefined ? {} : { ca }) } });
    this.#insecure = new Agent({ ...pool, connect: { ...lookup, rejectUnauthorized: false } });
    this.#proxies = new ProxyRoutes(options.proxy);
    this.#proxied = new ProxyAgents({ pool, ca, idleTimeoutMs: this.#idleTimeoutMs, guard: options.guard });
    this.#guard = options.guard;
    this.#ca = ca;
    this.#streamThreshold = options.streamThreshold ?? 1 << 20;
    this.#insecureHosts = new Set([...(options.insecureHosts ?? [])].map((h) => h.toLowerCase()));
    this.#verifyHosts = new Set([...(options.verifyHosts ?? [])].map((h) => h.toLowerCase()));
    this.#endpoints = options.endpoints ?? new Map();
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.budgets = new RetryBudgets(options.retryBudget, options.clock ?? systemClock);
    this.userAgent = options.userAgent ?? 'ferry/0.1';
  }

  /**
   * Whether TLS may be skipped for a host: marked insecure, or loopback — unless marked to be
   * verified. The most specific entry decides (`host:port`, then `host`); verification wins a tie.
   */
  isInsecure(host: string): boolean {
    const lower = host.toLowerCase();
    const name = stripPort(lower);
    if (this.#verifyHosts.has(lower)) return false;
    if (this.#insecureHosts.has(lower)) return true;
    if (this.#verifyHosts.has(name)) return false;
    return this.#insecureHosts.has(name) || isLoopbackHost(lower);
  }

  /** The `verifyHosts` entry that makes a host verified, if one does (for messages). */
  #verifyEntry(host: string): string | undefined {
    const lower = host.toLowerCase();
    if (this.isInsecure(lower)) return undefined;
    return [lower, stripPort(lower)].find((entry) => this.#verifyHosts.has(entry));
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
    // Docker Hub's registry API is not served at docker.io: Docker, containerd and skopeo talk to
    // registry-1.docker.io (credentials and names still say docker.io; the token realm comes from its challenge).
    if (host === dockerHubRegistry) return new URL(dockerHubApiBase);
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
    discardBody(res.body);
    return { base, status: res.status, wwwAuthenticate: headerValue(res.headers, Header.wwwAuthenticate) };
  }

  /** One request, no retry, no redirect following. The caller must consume or destroy `body`. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    // IP literals never reach the resolver: check them here (names are checked at connect time).
    // Every request passes here — registry hosts, token realms, redirects, upload Locations, Link pages.
    const refused = this.#guard?.literalRefusal(req.url);
    if (refused !== undefined)
      throw new TransportError(`${req.method} ${redactUrl(req.url)}: refused: ${refused}`, {
        registry: req.url.host,
        retryable: false,
      });
    const insecure = this.isInsecure(req.url.host);
    const headers: Record<string, string> = { [Header.userAgent]: this.userAgent, ...req.headers };
    const proxy = this.#proxies.forUrl(req.url);
    try {
      const streams = this.#streams(req);
      // Through a proxy the target is never connected here: under the guard, the proxy is sent the
      // checked address, never the name (see resolveTarget). Pooled https tunnels check at connect time.
      const proxyAddress =
        proxy !== undefined && this.#guard !== undefined && (streams || req.url.protocol !== 'https:')
          ? await resolveTarget(this.#guard, req.url.hostname)
          : undefined;
      if (streams) {
        const res = await streamExchange(
          {
            method: req.method,
            url: req.url,
            headers,
            body: req.body instanceof Readable ? req.body : null,
            signal: req.signal,
          },
          {
            rejectUnauthorized: !insecure,
            ca: this.#ca,
            lookup: this.#guard?.lookup,
            pool: sharedBufferPool,
            idleTimeoutMs: this.#idleTimeoutMs,
            proxy,
            proxyAddress,
          },
        );
        return { ...res, url: req.url };
      }
      const route =
        proxy === undefined
          ? {
              agent: insecure ? this.#insecure : this.#secure,
              origin: req.url.origin,
              path: `${req.url.pathname}${req.url.search}`,
              headers: {},
            }
          : this.#proxied.route(req.url, insecure, proxy, proxyAddress);
      const res = await undiciRequest.call(route.agent, {
        origin: route.origin,
        path: route.path,
        method: req.method,
        headers: { ...headers, ...route.headers },
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
      if (this.#closing.signal.aborted)
        throw new TransportError(`${req.method} ${redactUrl(req.url)}: the transport was closed`, {
          registry: req.url.host,
          retryable: false,
          cause: err,
        });
      if (errorCodes(err).includes(deniedCode))
        throw new TransportError(`${req.method} ${redactUrl(req.url)}: ${networkMessage(err)}`, {
          registry: req.url.host,
          retryable: false,
          cause: err,
        });
      const proxyFailure = proxyFailureOf(err);
      if (proxyFailure)
        throw new TransportError(`${req.method} ${redactUrl(req.url)}: ${proxyFailure.message}`, {
          registry: req.url.host,
          retryable: proxyFailure.retryable,
          cause: err,
        });
      // A failing request body (a digest check, a source that broke) is the real cause.
      if (req.body instanceof Readable && req.body.errored) throw req.body.errored;
      if (errorCodes(err).some((code) => certificateCode.test(code))) {
        // Retrying cannot make a certificate trusted: fail at once, and say what would.
        const verifyEntry = this.#verifyEntry(req.url.host);
        const remedy =
          verifyEntry === undefined ? `mark ${req.url.host} insecure` : `drop ${verifyEntry} from --tls-verify`;
        throw new TransportError(
          `${req.method} ${redactUrl(req.url)}: ${networkMessage(err)} (certificate not trusted: add its CA, or ${remedy})`,
          {
            registry: req.url.host,
            retryable: false,
            cause: err,
          },
        );
      }
      const idle = errorCodes(err).includes('UND_ERR_HEADERS_TIMEOUT')
        ? `no response within ${this.#idleTimeoutMs / 1000} s (idle timeout)`
        : undefined;
      throw new TransportError(`${req.method} ${redactUrl(req.url)}: ${idle ?? networkMessage(err)}`, {
        registry: req.url.host,
        cause: err,
      });
    }
  }

  /** Whether a request moves a blob large enough for {@link streamExchange}: a blob GET, or a streamed upload of known length. */
  #streams(req: HttpRequest): boolean {
    const bytes =
      req.body instanceof Readable
        ? Number(req.headers?.[Header.contentLength])
        : req.method === 'GET'
          ? req.streamBytes
          : undefined;
    return bytes !== undefined && bytes >= this.#streamThreshold;
  }

  /** Aborted by {@link close}: retries waiting on it stop at once instead of outliving the command. */
  get closed(): AbortSignal {
    return this.#closing.signal;
  }

  async close(): Promise<void> {
    this.#closing.abort(new TransportError('the transport was closed', { registry: '-', retryable: false }));
    await Promise.all([this.#secure.close(), this.#insecure.close(), this.#proxied.close()]);
  }
}

/** Where Docker Hub's registry API is served (`docker.io` names it). */
export const dockerHubApiBase = 'https://registry-1.docker.io/';

/**
 * `--ca-file`'s CAs beside Node's public roots. WARNING: TLS's `ca` option replaces the root store
 * instead of adding to it, so passing the file alone would make every public registry (Docker Hub,
 * quay.io, ECR) untrusted for the rest of the run.
 */
export function withPublicRoots(extra: string | Buffer): string {
  return [...rootCertificates, String(extra)].join('\n');
}

/** TLS verification failures (Node's and OpenSSL's codes): permanent for this configuration. */
const certificateCode = /^(CERT_|ERR_TLS_CERT|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH)/;

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** localhost, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  return isLoopbackName(stripPort(host));
}

/** A URL for messages: no query (upload state, signed-URL credentials), no userinfo. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The error's code and message, and its cause's message (undici wraps the socket's error once). */
function networkMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const [, cause] = causes(err, 2);
  const inner = cause instanceof Error ? cause.message : '';
  return [typeof code === 'string' ? code : '', err.message, inner].filter((s) => s !== '').join(' ');
}

/**
 * Reads a body up to `limit` bytes. Past the limit the body is destroyed — its connection dropped,
 * never drained (an endless body would spin for ever) — and `complete` is false.
 */
export async function readUpTo(body: Readable, limit: number): Promise<{ bytes: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk.subarray(0, Math.max(0, limit - total)));
    total += chunk.length;
    if (total > limit) {
      body.destroy();
      return { bytes: Buffer.concat(chunks), complete: false };
    }
  }
  return { bytes: Buffer.concat(chunks), complete: true };
}

/** At most `limit` bytes of a body as text (an error or token body), the rest dropped with {@link readUpTo}. */
export async function readCapped(body: Readable, limit: number): Promise<string> {
  return (await readUpTo(body, limit)).bytes.toString('utf8');
}

/** Bytes of an unwanted body read before its connection is dropped instead (see {@link discardBody}). */
export const discardLimit = 64 * 1024;

/**
 * Throws away a body nobody reads (a redirect's, a retried error's, a HEAD's or an empty 2xx's).
 * A small body is read to its end, so that its keep-alive connection serves the next request;
 * past `limit` bytes it is destroyed, closing the connection, rather than drained for ever.
 */
export function discardBody(body: Readable, limit = discardLimit): void {
  let seen = 0;
  body.on('error', () => undefined);
  body.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limit) body.destroy();
  });
}
