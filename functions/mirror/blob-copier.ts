import { Readable } from 'node:stream';
import { verifyDigest } from '../oci/digest.js';
import { FerryError } from '../oci/errors.js';
import { silentLogger, type Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import { backoffDelay, defaultRetryPolicy, isTransientNetworkError, type RetryPolicy, sleep } from '../oci/retry.js';
import { type BlobIndex, MemoryBlobIndex } from './blob-index.js';
import { Limiter } from './limiter.js';

/** What happened to one blob: the ladder's outcome, a value, not an exception. */
export type BlobOutcome =
  | { readonly kind: 'skipped'; readonly bytes: 0 }
  | { readonly kind: 'mounted'; readonly bytes: 0; readonly from: string }
  | { readonly kind: 'copied'; readonly bytes: number };

export interface BlobProgress {
  /** Called as bytes of a streamed blob pass through (`done` = bytes so far). */
  onBytes?(descriptor: Descriptor, done: number): void;
  onStart?(descriptor: Descriptor, destination: string): void;
  onEnd?(descriptor: Descriptor, outcome: BlobOutcome | undefined): void;
}

export interface BlobCopierOptions {
  /** Blob transfers at once across every image this copier serves. */
  readonly concurrency?: number;
  /** Attempts per blob transfer (a failed transfer restarts with a new upload). */
  readonly retry?: RetryPolicy;
  readonly logger?: Logger;
  readonly progress?: BlobProgress;
  /** Repositories of a destination registry known to hold a digest (a durable blob index plugs in here). */
  readonly index?: BlobIndex;
}

const maxMountCandidates = 3;

/**
 * Copies blobs with the ladder — destination HEAD → skip; mount from a repository of the same
 * registry known to hold it → done; else stream source → destination, verifying digest and
 * size on the fly — one log line per decision. A blob in flight to a registry is transferred
 * once: other copies wait for it and then skip or mount.
 */
export class BlobCopier {
  readonly #limiter: Limiter;
  readonly #retry: RetryPolicy;
  readonly #logger: Logger;
  readonly #progress: BlobProgress;
  readonly #index: BlobIndex;
  readonly #inFlight = new Map<string, Promise<BlobOutcome>>();

  constructor(options: BlobCopierOptions = {}) {
    this.#limiter = new Limiter(options.concurrency ?? 6);
    this.#retry = options.retry ?? { ...defaultRetryPolicy, attempts: 3 };
    this.#logger = options.logger ?? silentLogger;
    this.#progress = options.progress ?? {};
    this.#index = options.index ?? new MemoryBlobIndex();
  }

  async copy(source: Repository, destination: Repository, descriptor: Descriptor, signal?: AbortSignal): Promise<BlobOutcome> {
    const registryKey = destination.registry ?? destination.display;
    const key = `${registryKey} ${descriptor.digest}`;
    for (;;) {
      const running = this.#inFlight.get(key);
      if (!running) break;
      // Another copy is moving this blob into the same registry: wait, then skip or mount from it.
      await running.catch(() => undefined);
    }
    const attempt = this.#limiter.run(() => this.#ladder(source, destination, descriptor, registryKey, signal));
    this.#inFlight.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  async #ladder(source: Repository, destination: Repository, descriptor: Descriptor, registryKey: string, signal?: AbortSignal): Promise<BlobOutcome> {
    const { digest } = descriptor;
    const fields = { digest, destination: destination.display };
    if (await destination.headBlob(descriptor)) {
      this.#logger.debug('blob exists at destination: skip', fields);
      await this.#record(registryKey, digest, destination.name);
      return { kind: 'skipped', bytes: 0 };
    }
    let session: string | undefined;
    if (destination.registry !== undefined) {
      const candidates = (await this.#locations(registryKey, digest)).filter((r) => r !== destination.name);
      if (source.registry === destination.registry && source.name !== destination.name) candidates.unshift(source.name);
      for (const from of candidates.slice(0, maxMountCandidates)) {
        const mount = await destination.mountBlob(descriptor, from);
        if (mount.mounted) {
          this.#logger.debug('blob mounted', { ...fields, from });
          await this.#record(registryKey, digest, destination.name);
          return { kind: 'mounted', bytes: 0, from };
        }
        session ??= mount.session;
      }
    }
    this.#logger.debug('blob streamed', { ...fields, size: descriptor.size });
    await this.#stream(source, destination, descriptor, session, signal);
    await this.#record(registryKey, digest, destination.name);
    return { kind: 'copied', bytes: descriptor.size };
  }

  /** Mount candidates; the index is an optimisation, so a failing one means no candidates. */
  async #locations(registry: string, digest: string): Promise<readonly string[]> {
    try {
      return await this.#index.locations(registry, digest);
    } catch (err) {
      this.#logger.warn('blob index lookup failed; not mounting', { digest, error: String(err) });
      return [];
    }
  }

  /** Remembers where a blob now is; a failing index never fails the copy. */
  async #record(registry: string, digest: string, repository: string): Promise<void> {
    try {
      await this.#index.record(registry, digest, repository);
    } catch (err) {
      this.#logger.warn('blob index write failed', { digest, error: String(err) });
    }
  }

  async #stream(source: Repository, destination: Repository, descriptor: Descriptor, session: string | undefined, signal?: AbortSignal): Promise<void> {
    this.#progress.onStart?.(descriptor, destination.display);
    let outcome: BlobOutcome | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          // One stream from source to upload: read (resuming with Range), verify, send.
          const chunks = verifyDigest(this.#read(source, descriptor, signal), descriptor.digest, descriptor.size);
          const body = Readable.from(chunks, { objectMode: false, highWaterMark: 1 << 20 });
          await destination.writeBlob(descriptor, body, attempt === 0 ? session : undefined);
          outcome = { kind: 'copied', bytes: descriptor.size };
          return;
        } catch (err) {
          const retryable = err instanceof FerryError ? err.retryable : isTransientNetworkError(err);
          if (!retryable || attempt + 1 >= this.#retry.attempts || signal?.aborted) throw err;
          const delay = backoffDelay(this.#retry, attempt);
          this.#logger.warn('blob transfer failed; restarting', { digest: descriptor.digest, attempt: attempt + 1, delay, error: String(err) });
          await sleep(delay, signal);
        }
      }
    } finally {
      this.#progress.onEnd?.(descriptor, outcome);
    }
  }

  /**
   * The source blob's bytes. A body that breaks off (reset, truncation) is resumed with `Range`
   * from the byte reached, so one hiccup does not restart a large layer.
   */
  async *#read(source: Repository, descriptor: Descriptor, signal?: AbortSignal): AsyncGenerator<Buffer> {
    let offset = 0;
    let failures = 0;
    for (;;) {
      let opened;
      try {
        opened = await source.openBlob(descriptor, offset);
      } catch (err) {
        if (!(err instanceof FerryError && err.retryable) || ++failures >= this.#retry.attempts) throw err;
        await sleep(backoffDelay(this.#retry, failures), signal);
        continue;
      }
      let skip = offset - opened.offset;
      try {
        for await (const raw of opened.body as AsyncIterable<Buffer>) {
          let chunk = raw;
          if (skip > 0) {
            if (chunk.length <= skip) {
              skip -= chunk.length;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          offset += chunk.length;
          this.#progress.onBytes?.(descriptor, offset);
          yield chunk;
          if (offset > descriptor.size) return; // the verifier reports the overrun
        }
      } catch (err) {
        if (!isTransientNetworkError(err) || ++failures >= this.#retry.attempts) throw err;
        this.#logger.warn('source body broke off; resuming with Range', { digest: descriptor.digest, offset });
        continue;
      }
      if (offset >= descriptor.size) return;
      // Ended early without an error: a truncated body. Resume from where it stopped.
      if (++failures >= this.#retry.attempts) return; // the verifier reports the short count
      this.#logger.warn('source body ended early; resuming with Range', { digest: descriptor.digest, offset, size: descriptor.size });
    }
  }
}
