import type { Readable } from 'node:stream';
import { type ChunkRules, chunkRulesFor } from './chunk-rules.js';
import type { Digest } from './digest.js';
import { RegistryError, UploadUnknownError } from './errors.js';
import type { Descriptor } from './manifest.js';
import { Header } from './media-types.js';
import type { RegistryClient } from './registry-client.js';
import type { ChunkedUploads, UploadState } from './repository.js';
import { discardBody, headerValue } from './transport.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The upload steps of one registry repository, named as the distribution spec names them:
 * `startUpload` (POST), `appendChunk` (PATCH with `Content-Range`), `uploadStatus` (GET),
 * `commitUpload` (PUT `?digest=`), `cancelUpload` (DELETE). Monolithic uploads (one PUT, or one
 * streamed PATCH) and chunked sessions that outlive a process share them.
 */
export class RegistryUploads implements ChunkedUploads {
  readonly rules: ChunkRules;
  readonly #client: RegistryClient;
  readonly #name: string;
  readonly #scopes: readonly string[];
  readonly #display: string;

  constructor(client: RegistryClient, name: string, scopes: readonly string[]) {
    this.#client = client;
    this.#name = name;
    this.#scopes = scopes;
    this.#display = `${client.registry}/${name}`;
    this.rules = chunkRulesFor(client.registry);
  }

  async start(): Promise<UploadState> {
    return { location: await this.startUpload(), offset: 0 };
  }

  /** `POST /v2/<name>/blobs/uploads/` → the session's Location, registry-relative when on the registry. */
  async startUpload(): Promise<string> {
    const res = await this.#send('POST', `v2/${this.#name}/blobs/uploads/`, [202]);
    discardBody(res.body);
    const location = headerValue(res.headers, Header.location);
    if (location === undefined) throw this.#error('upload started without a Location');
    return this.#keep(location);
  }

  /**
   * One part: `Content-Range: <offset>-<end>` (the spec's form, no unit) and `Content-Length`.
   * 202 with the next Location; ECR answers 201. 404 and 416 mean the session is not where Ferry
   * left it: an UploadUnknownError, on which the caller restarts the blob.
   */
  async append(state: UploadState, chunk: Buffer): Promise<UploadState> {
    const end = state.offset + chunk.length;
    const res = await this.#send('PATCH', await this.#url(state.location), [201, 202, 204, 404, 416], {
      headers: {
        [Header.contentType]: 'application/octet-stream',
        [Header.contentLength]: String(chunk.length),
        [Header.contentRange]: `${state.offset}-${end - 1}`,
      },
      body: chunk,
    });
    discardBody(res.body);
    if (res.status === 404 || res.status === 416)
      throw this.#unknown(`the registry refused bytes ${state.offset}-${end - 1} (HTTP ${res.status})`, res.status);
    const reached = rangeEnd(res.headers);
    // distribution says `0-0` for both 0 and 1 byte; anything else must be where this part ended.
    if (reached !== undefined && reached !== end && !(reached <= 1 && end <= 1))
      throw this.#unknown(`the session holds ${reached} bytes after a part ending at ${end}`, res.status);
    return { location: await this.#next(res.headers, state.location), offset: end };
  }

  /**
   * 404 `BLOB_UPLOAD_UNKNOWN` (expired, purged), and 400 `BLOB_UPLOAD_INVALID` (distribution when
   * the state signed into the Location no longer checks out, e.g. a registry restarted with another
   * `http.secret`): either way the session cannot go on, and the caller restarts the blob.
   */
  async status(location: string): Promise<UploadState | undefined> {
    const res = await this.#send('GET', await this.#url(location), [200, 204, 400, 404]);
    discardBody(res.body);
    if (res.status === 404 || res.status === 400) return undefined;
    return { location: await this.#next(res.headers, location), offset: rangeEnd(res.headers) ?? 0 };
  }

  async commit(state: UploadState, digest: Digest): Promise<void> {
    await this.commitUpload(state.location, digest, null, 0);
  }

  /** `PUT <location>?digest=` with the body's last bytes (or all of them), or none. */
  async commitUpload(location: string, digest: Digest, body: Readable | null, size: number): Promise<void> {
    const url = await this.#url(location);
    url.searchParams.set('digest', digest);
    const res = await this.#send('PUT', url, [201, 204, 404], {
      headers: { [Header.contentType]: 'application/octet-stream', [Header.contentLength]: String(size) },
      ...(body === null ? {} : { body }),
    });
    discardBody(res.body);
    if (res.status === 404) throw this.#unknown('the registry no longer knows the upload session at commit', 404);
  }

  /** One streamed PATCH with the whole blob; the next Location. ECR answers 201 instead of 202. */
  async patchWhole(location: string, descriptor: Descriptor, body: Readable): Promise<string> {
    const res = await this.#send('PATCH', await this.#url(location), [201, 202, 204], {
      headers: { [Header.contentType]: 'application/octet-stream', [Header.contentLength]: String(descriptor.size) },
      body,
    });
    discardBody(res.body);
    const reached = rangeEnd(res.headers);
    if (reached !== undefined && reached !== descriptor.size && descriptor.size > 1) {
      throw new RegistryError(
        `${this.#display}: upload of ${descriptor.digest} stopped at ${reached} of ${descriptor.size} bytes`,
        { registry: this.#client.registry, repository: this.#name, retryable: true },
      );
    }
    return this.#next(res.headers, location);
  }

  async cancel(location: string): Promise<void> {
    try {
      const res = await this.#send('DELETE', await this.#url(location), [202, 204, 404]);
      discardBody(res.body);
    } catch {
      // Best effort: the registry expires abandoned sessions.
    }
  }

  #send(
    method: 'POST' | 'PATCH' | 'GET' | 'PUT' | 'DELETE',
    path: string | URL,
    expect: readonly number[],
    extra: { headers?: Record<string, string>; body?: Buffer | Readable } = {},
  ): ReturnType<RegistryClient['request']> {
    return this.#client.request({ method, path, repository: this.#name, scopes: this.#scopes, expect, ...extra });
  }

  /** The Location a response gave (kept registry-relative), or the current one when it gave none. */
  #next(headers: Headers, current: string): Promise<string> {
    const location = headerValue(headers, Header.location);
    return location === undefined ? Promise.resolve(current) : this.#keep(location);
  }

  /**
   * A Location on the registry's own origin as path and query only: what a checkpoint stores, so
   * it holds no host (and never credentials); resolved against the registry again when used.
   * A Location on another origin is kept whole, without any user-info.
   */
  async #keep(location: string): Promise<string> {
    const base = await this.#client.transport.baseUrl(this.#client.registry);
    const url = new URL(location, base);
    if (url.origin === base.origin) return `${url.pathname}${url.search}`;
    url.username = '';
    url.password = '';
    return url.toString();
  }

  async #url(location: string): Promise<URL> {
    return new URL(location, await this.#client.transport.baseUrl(this.#client.registry));
  }

  #error(message: string): RegistryError {
    return new RegistryError(`${this.#display}: ${message}`, {
      registry: this.#client.registry,
      repository: this.#name,
    });
  }

  #unknown(message: string, status: number): UploadUnknownError {
    return new UploadUnknownError(`${this.#display}: upload session lost: ${message}`, {
      registry: this.#client.registry,
      repository: this.#name,
      status,
    });
  }
}

/** The session's size from a `Range: 0-<last byte>` header (some registries prefix `bytes=`). */
function rangeEnd(headers: Headers): number | undefined {
  const range = headerValue(headers, Header.range);
  const match = range === undefined ? null : /(\d+)-(\d+)\s*$/.exec(range);
  if (!match) return undefined;
  return Number(match[2]) + 1;
}
