import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { Authenticator } from './auth/authenticator.js';
import type { CredentialStore } from './auth/credentials.js';
import { AuthenticationError, NotFoundError, RegistryError, TransportError } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { Header } from './media-types.js';
import { manifestTarget, pullIdentity, type PullGate, type PullRequest } from './pull-gate.js';
import { readRateLimit } from './rate-limit.js';
import { decideRetry, exhausted, isRetryable, parseRetryAfter, type RetryRefusal } from './retry.js';
import {
  discardBody,
  headerValue,
  type HttpRequest,
  type HttpResponse,
  readCapped,
  redactUrl,
  type RequestBody,
  type Transport,
} from './transport.js';

export interface RegistryRequest {
  readonly method: Dispatcher.HttpMethod;
  /** Path below the registry base (`v2/<repo>/manifests/<ref>`), or an absolute URL (upload locations). */
  readonly path: string | URL;
  readonly repository?: string;
  readonly scopes: readonly string[];
  /** Statuses that are success for this call; anything else becomes a typed error. */
  readonly expect: readonly number[];
  readonly headers?: Record<string, string>;
  readonly body?: RequestBody;
  readonly followRedirects?: boolean;
  readonly signal?: AbortSignal;
  /** For a blob GET: the bytes the response will carry (see `Transport`'s stream threshold). */
  readonly streamBytes?: number;
}

const maxRedirects = 5;
const maxErrorBody = 16 * 1024;

/**
 * Requests to one registry host: authorization, redirects (never forwarding `Authorization`
 * to another host), retries of replayable requests (429 honouring `Retry-After`, 408, 5xx,
 * resets) with capped exponential backoff within the host's retry budget, and typed errors.
 * This is Ferry's one retry layer (see `retry.ts`): at most `transport.retry.attempts` sends
 * per request; an error it gave up on is marked `retriesExhausted`.
 *
 * WARNING: a request whose body is a stream is sent once; its caller restarts or resumes.
 */
export class RegistryClient {
  readonly registry: string;
  readonly transport: Transport;
  readonly #auth: Authenticator;
  readonly #logger: Logger;
  readonly #credentials: CredentialStore;
  readonly #pulls: PullGate | undefined;
  #identity: Promise<string> | undefined;

  /** `pulls`: the pull budget every manifest GET to this registry spends (see {@link PullGate}). */
  constructor(
    registry: string,
    transport: Transport,
    credentials: CredentialStore,
    logger: Logger = silentLogger,
    pulls?: PullGate,
  ) {
    this.registry = registry;
    this.transport = transport;
    this.#auth = new Authenticator(registry, transport, credentials);
    this.#logger = logger;
    this.#credentials = credentials;
    this.#pulls = pulls;
  }

  async request(req: RegistryRequest): Promise<HttpResponse> {
    const base = await this.transport.baseUrl(this.registry);
    let url = typeof req.path === 'string' ? new URL(req.path, base) : req.path;
    const replayable = !(req.body instanceof Readable);
    let authorization = url.origin === base.origin ? await this.#auth.header(req.scopes) : undefined;
    let reauthenticated = false;
    let redirects = 0;
    const policy = this.transport.retry;
    const budget = this.transport.budgets.for(this.registry);
    const clock = this.transport.budgets.clock;
    const pull = req.method === 'GET' ? await this.#pullOf(req.path) : undefined;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...req.headers };
      if (authorization !== undefined && url.origin === base.origin) headers[Header.authorization] = authorization;
      let res: HttpResponse;
      try {
        res = await this.#send(
          {
            method: req.method,
            url,
            headers,
            body: req.body ?? null,
            signal: req.signal,
            ...(req.streamBytes === undefined ? {} : { streamBytes: req.streamBytes }),
          },
          pull,
        );
      } catch (err) {
        // A streamed body cannot be sent again: its caller (the blob ladder) decides, once.
        if (!replayable || !(err instanceof TransportError)) throw this.#withRepo(err, req);
        const decision = decideRetry({ retryable: isRetryable(err) }, attempt, policy, budget);
        if (!decision.retry) throw this.#gaveUp(this.#withRepo(err, req), decision.why);
        this.#logger.debug('retrying after network error', {
          url: redactUrl(url),
          attempt: attempt + 1,
          delay: decision.delayMs,
          error: String(err),
        });
        await this.#backoff(decision.delayMs, req.signal);
        continue;
      }
      const { status } = res;
      if (req.expect.includes(status)) return res;
      if (status === 401 && replayable && !reauthenticated && url.origin === base.origin) {
        discardBody(res.body);
        reauthenticated = true;
        authorization = await this.#auth.refresh(headerValue(res.headers, Header.wwwAuthenticate), req.scopes);
        attempt--; // not a failure: the same attempt, now authorized
        continue;
      }
      if (isRedirect(status) && req.followRedirects && redirects++ < maxRedirects) {
        const location = headerValue(res.headers, Header.location);
        discardBody(res.body);
        if (location === undefined)
          throw new RegistryError(`redirect without Location from ${redactUrl(url)}`, this.#details(req, status));
        url = new URL(location, url);
        if (url.protocol !== 'https:' && url.protocol !== 'http:')
          throw new RegistryError(
            `redirect to a ${url.protocol} URL from ${redactUrl(res.url)}`,
            this.#details(req, status),
          );
        attempt--; // following a redirect is not a retry
        continue;
      }
      if ((status === 429 || status === 408 || status >= 500) && replayable) {
        const retryAfterMs = parseRetryAfter(headerValue(res.headers, Header.retryAfter), clock.now());
        const decision = decideRetry({ retryable: true, retryAfterMs }, attempt, policy, budget);
        if (decision.retry) {
          discardBody(res.body);
          this.#logger.debug('retrying after HTTP status', {
            url: redactUrl(url),
            status,
            attempt: attempt + 1,
            delay: decision.delayMs,
          });
          await this.#backoff(decision.delayMs, req.signal);
          continue;
        }
        if (decision.why === 'retry-after') {
          discardBody(res.body);
          throw this.#gaveUp(
            new RegistryError(
              `${this.registry} asked to retry after ${Math.round((retryAfterMs ?? 0) / 1000)} s (HTTP ${status})`,
              this.#details(req, status),
            ),
            decision.why,
          );
        }
        throw this.#gaveUp(await this.#errorFrom(res, req), decision.why);
      }
      throw await this.#errorFrom(res, req);
    }
  }

  /** One send; a manifest GET spends a pull of the budget first and reports what the registry said of it after. */
  async #send(request: HttpRequest, pull: PullRequest | undefined): Promise<HttpResponse> {
    if (pull === undefined || this.#pulls === undefined) return this.transport.send(request);
    await this.#pulls.acquire(pull, request.signal);
    let res: HttpResponse | undefined;
    try {
      res = await this.transport.send(request);
      return res;
    } finally {
      await this.#pulls.settle(pull, res ? { status: res.status, reading: readRateLimit(res.headers) } : {});
    }
  }

  /** The pull a GET of `path` is, when it is a manifest GET and this client keeps a budget. */
  async #pullOf(path: string | URL): Promise<PullRequest | undefined> {
    const target = this.#pulls === undefined ? undefined : manifestTarget(path);
    if (target === undefined) return undefined;
    this.#identity ??= this.#credentials.get(this.registry).then(pullIdentity);
    return { registry: this.registry, identity: await this.#identity, ...target };
  }

  /** The error this layer stops retrying: marked so that no layer above retries it again. */
  #gaveUp(err: unknown, why: RetryRefusal): unknown {
    if (why === 'permanent') return err;
    if (why === 'budget')
      this.#logger.debug('not retrying: the host has spent its retry budget', { registry: this.registry });
    return exhausted(err);
  }

  /** Waits out a retry delay; ends early when the caller gives up or the transport closes. */
  #backoff(delay: number, signal: AbortSignal | undefined): Promise<void> {
    const closed = this.transport.closed;
    return this.transport.budgets.clock.sleep(delay, signal ? AbortSignal.any([signal, closed]) : closed);
  }

  async #errorFrom(res: HttpResponse, req: RegistryRequest): Promise<RegistryError> {
    const text = await readCapped(res.body, maxErrorBody).catch(() => '');
    const { codes, messages } = parseErrorBody(text);
    const status = res.status;
    const what = `${req.method} ${req.repository === undefined ? this.registry : `${this.registry}/${req.repository}`}`;
    const detail = messages.length > 0 ? messages.join('; ') : `HTTP ${status}`;
    const details = { ...this.#details(req, status), codes };
    if (status === 401 || status === 403)
      return new AuthenticationError(`${what}: access denied (${detail})`, { ...details, retryable: false });
    if (status === 404) return new NotFoundError(`${what}: not found (${detail})`, details);
    return new RegistryError(`${what}: ${detail}`, details);
  }

  #details(req: RegistryRequest, status?: number): { registry: string; repository?: string; status?: number } {
    return {
      registry: this.registry,
      ...(req.repository === undefined ? {} : { repository: req.repository }),
      ...(status === undefined ? {} : { status }),
    };
  }

  #withRepo(err: unknown, req: RegistryRequest): unknown {
    if (err instanceof TransportError && err.repository === undefined && req.repository !== undefined) {
      return new TransportError(err.message, {
        registry: this.registry,
        repository: req.repository,
        retryable: err.retryable,
        cause: err.cause,
      });
    }
    return err;
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function parseErrorBody(text: string): { codes: string[]; messages: string[] } {
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc === 'object' && doc !== null && 'errors' in doc && Array.isArray(doc.errors)) {
      const errors = doc.errors as unknown[];
      const codes = errors.flatMap((e) =>
        typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? [e.code] : [],
      );
      const messages = errors.flatMap((e) =>
        typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string'
          ? [`${'code' in e ? String(e.code) : ''} ${e.message}`.trim()]
          : [],
      );
      return { codes, messages };
    }
  } catch {
    // Not JSON: fall through to the status line.
  }
  return { codes: [], messages: [] };
}
