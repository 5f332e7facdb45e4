import { randomUUID } from 'node:crypto';
import { addAbortSignal, Readable } from 'node:stream';
import { verifyDigest } from '../oci/digest.js';
import { describeError, errorCodes, FerryError, TransportError } from '../oci/errors.js';
import { silentLogger, type Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import type { BlobBody, Repository } from '../oci/repository.js';
import { backoffDelay, defaultRetryPolicy, isTransientNetworkError, type RetryPolicy, sleep } from '../oci/retry.js';
import { type BlobClaim, type BlobIndex, type BlobLeases, MemoryBlobIndex } from './blob-index.js';
import { Limiter } from './limiter.js';
import { defaultMinimumRate, type MinimumRate, RateFloor } from './rate-floor.js';

/** A source body's failure as one line naming registry, repository and blob (undici's own errors name none). */
function bodyError(source: Repository, descriptor: Descriptor, err: unknown): unknown {
  if (err instanceof FerryError) return err;
  const cause = errorCodes(err).includes('UND_ERR_BODY_TIMEOUT')
    ? 'no data within the idle timeout'
    : describeError(err);
  return new TransportError(`${source.display}: blob ${descriptor.digest}: ${cause}`, {
    registry: source.registry ?? source.display,
    repository: source.name,
    retryable: isTransientNetworkError(err),
    cause: err,
  });
}

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
  /** Where blobs are and who is moving them, shared with other processes (the copy-image Lambdas). */
  readonly shared?: SharedBlobs;
  /** How long a claim holds without renewal (default 60 s; renewed every third of it while streaming). */
  readonly leaseMs?: number;
  /** The longest wait for another process's transfer before streaming anyway (default 5 min). */
  readonly maxWaitMs?: number;
  /** First poll interval while waiting (default 100 ms, growing to 2 s). */
  readonly pollMs?: number;
  /** The slowest a streamed blob may move before its attempt fails (default 10 KiB/s over 60 s). */
  readonly minRate?: MinimumRate;
}

/** A blob index and claims on transfers shared by processes; used for blobs of `minBytes` and up. */
export interface SharedBlobs {
  readonly index: BlobIndex;
  readonly leases?: BlobLeases;
  /**
   * Smaller blobs (configs, small layers) are copied without asking: a round trip to the shared
   * index costs about what uploading them does (default 1 MiB).
   */
  readonly minBytes?: number;
}

const maxMountCandidates = 3;

/**
 * Copies blobs with the ladder — destination HEAD → skip; mount from a repository of the same
 * registry known to hold it → done; else stream source → destination, verifying digest and
 * size on the fly — one log line per decision. A blob in flight to a registry is transferred
 * once: other copies in this process wait for it and then skip or mount; with leases, so do
 * copies in other processes.
 */
export class BlobCopier {
  readonly #limiter: Limiter;
  readonly #retry: RetryPolicy;
  readonly #logger: Logger;
  readonly #progress: BlobProgress;
  /** Where this process has put or found blobs. */
  readonly #memory = new MemoryBlobIndex();
  readonly #shared: SharedBlobs | undefined;
  readonly #sharedMinBytes: number;
  readonly #inFlight = new Map<string, Promise<BlobOutcome>>();
  readonly #leaseMs: number;
  readonly #maxWaitMs: number;
  readonly #pollMs: number;
  readonly #minRate: MinimumRate;

  constructor(options: BlobCopierOptions = {}) {
    this.#limiter = new Limiter(options.concurrency ?? 6);
    this.#retry = options.retry ?? { ...defaultRetryPolicy, attempts: 3 };
    this.#logger = options.logger ?? silentLogger;
    this.#progress = options.progress ?? {};
    this.#shared = options.shared;
    this.#sharedMinBytes = options.shared?.minBytes ?? 1 << 20;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#maxWaitMs = options.maxWaitMs ?? 300_000;
    this.#pollMs = options.pollMs ?? 100;
    this.#minRate = options.minRate ?? defaultMinimumRate;
  }

  async copy(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    signal?: AbortSignal,
  ): Promise<BlobOutcome> {
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

  async #ladder(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    registryKey: string,
    signal?: AbortSignal,
  ): Promise<BlobOutcome> {
    // Queued behind the limiter while the copy was cancelled: start nothing.
    signal?.throwIfAborted();
    const { digest } = descriptor;
    const fields = { digest, destination: destination.display };
    if (await destination.headBlob(descriptor)) {
      this.#logger.debug('blob exists at destination: skip', fields);
      await this.#record(registryKey, descriptor, destination.name);
      return { kind: 'skipped', bytes: 0 };
    }
    const tried = new Set<string>();
    const first = await this.#mount(
      source,
      destination,
      descriptor,
      registryKey,
      await this.#locations(registryKey, descriptor),
      tried,
    );
    if (first.outcome) return first.outcome;
    let session = first.session;
    const claim = await this.#claimOrWait(source, destination, descriptor, registryKey, tried, signal);
    if ('outcome' in claim) return claim.outcome;
    // An upload opened before a long wait may have lapsed: start a new one.
    if (claim.waited) session = undefined;
    const heartbeat = claim.holder === undefined ? undefined : this.#heartbeat(registryKey, digest, claim.holder);
    try {
      this.#logger.debug('blob streamed', { ...fields, size: descriptor.size });
      await this.#stream(source, destination, descriptor, session, signal);
      await this.#record(registryKey, descriptor, destination.name);
    } finally {
      if (heartbeat) clearInterval(heartbeat);
      if (claim.holder !== undefined) await this.#release(registryKey, digest, claim.holder);
    }
    return { kind: 'copied', bytes: descriptor.size };
  }

  /**
   * Mounts from a repository of the same registry known to hold the blob (the source's own
   * repository first when both are on one registry), skipping the ones `tried` already. A
   * refused mount may open an upload session, kept for streaming.
   */
  async #mount(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    registryKey: string,
    locations: readonly string[],
    tried: Set<string>,
  ): Promise<{ outcome?: BlobOutcome; session?: string }> {
    if (destination.registry === undefined) return {};
    const candidates = locations.filter((r) => r !== destination.name);
    if (source.registry === destination.registry && source.name !== destination.name) candidates.unshift(source.name);
    let session: string | undefined;
    for (const from of candidates.filter((r) => !tried.has(r)).slice(0, maxMountCandidates)) {
      tried.add(from);
      const mount = await destination.mountBlob(descriptor, from);
      if (mount.mounted) {
        this.#logger.debug('blob mounted', { digest: descriptor.digest, destination: destination.display, from });
        await this.#record(registryKey, descriptor, destination.name);
        return { outcome: { kind: 'mounted', bytes: 0, from } };
      }
      session ??= mount.session;
    }
    return session === undefined ? {} : { session };
  }

  /**
   * Claims the transfer across processes (when the index has leases). While another process
   * holds it, waits — polling the index, not the registry — for the blob to show up, then mounts
   * it; takes over when the holder's lease lapses; streams anyway after `maxWaitMs`.
   */
  async #claimOrWait(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    registryKey: string,
    tried: Set<string>,
    signal?: AbortSignal,
  ): Promise<{ outcome: BlobOutcome } | { holder: string | undefined; waited: boolean }> {
    const leases = this.#shared?.leases;
    if (!leases || destination.registry === undefined || descriptor.size < this.#sharedMinBytes)
      return { holder: undefined, waited: false };
    const { digest } = descriptor;
    const holder = `${destination.name} ${randomUUID()}`;
    const deadline = Date.now() + this.#maxWaitMs;
    let delay = this.#pollMs;
    let waited = false;
    for (;;) {
      let claim: BlobClaim;
      try {
        claim = await leases.claim(registryKey, digest, holder, this.#leaseMs);
      } catch (err) {
        this.#logger.warn('blob lease unavailable; streaming', { digest, error: String(err) });
        return { holder: undefined, waited };
      }
      if (claim.granted) {
        // The lease lapsed or was given up: the holder may have finished before we polled again.
        if (waited && (await destination.headBlob(descriptor))) {
          await this.#release(registryKey, digest, holder);
          return { outcome: { kind: 'skipped', bytes: 0 } };
        }
        return { holder, waited };
      }
      if (!waited)
        this.#logger.debug('blob being copied by another process: waiting to mount it', {
          digest,
          destination: destination.display,
        });
      waited = true;
      while (Date.now() < Math.min(claim.until, deadline)) {
        await sleep(delay, signal);
        delay = Math.min(delay * 1.5, 2_000);
        const locations = await this.#locations(registryKey, descriptor);
        // The other process was copying into this very repository (another tag of it): it is here now.
        if (locations.includes(destination.name) && (await destination.headBlob(descriptor)))
          return { outcome: { kind: 'skipped', bytes: 0 } };
        const mounted = await this.#mount(source, destination, descriptor, registryKey, locations, tried);
        if (mounted.outcome) return { outcome: mounted.outcome };
      }
      if (Date.now() >= deadline) {
        this.#logger.warn('waited too long for another process to copy a blob; streaming it', {
          digest,
          waitedMs: this.#maxWaitMs,
        });
        return { holder: undefined, waited };
      }
    }
  }

  /** Renews the lease while the blob streams, so a long layer is not taken over. */
  #heartbeat(registry: string, digest: string, holder: string): ReturnType<typeof setInterval> {
    const timer = setInterval(
      () => {
        this.#shared?.leases
          ?.claim(registry, digest, holder, this.#leaseMs)
          .catch((err: unknown) => this.#logger.warn('blob lease renewal failed', { digest, error: String(err) }));
      },
      Math.max(1, Math.floor(this.#leaseMs / 3)),
    );
    timer.unref();
    return timer;
  }

  async #release(registry: string, digest: string, holder: string): Promise<void> {
    try {
      await this.#shared?.leases?.release(registry, digest, holder);
    } catch (err) {
      this.#logger.warn('blob lease release failed (it lapses by itself)', { digest, error: String(err) });
    }
  }

  /** Mount candidates: this process's, then the shared index's for large blobs. The index is an optimisation: failing, it has none. */
  async #locations(registry: string, descriptor: Descriptor): Promise<readonly string[]> {
    const near = await this.#memory.locations(registry, descriptor.digest);
    if (!this.#shared || descriptor.size < this.#sharedMinBytes) return near;
    try {
      return [...new Set([...near, ...(await this.#shared.index.locations(registry, descriptor.digest))])];
    } catch (err) {
      this.#logger.warn("blob index lookup failed; not mounting from other processes' copies", {
        digest: descriptor.digest,
        error: String(err),
      });
      return near;
    }
  }

  /** Remembers where a blob now is, in the shared index once per process; a failing index never fails the copy. */
  async #record(registry: string, descriptor: Descriptor, repository: string): Promise<void> {
    if (this.#memory.has(registry, descriptor.digest, repository)) return;
    await this.#memory.record(registry, descriptor.digest, repository);
    if (!this.#shared || descriptor.size < this.#sharedMinBytes) return;
    try {
      await this.#shared.index.record(registry, descriptor.digest, repository);
    } catch (err) {
      this.#logger.warn('blob index write failed', { digest: descriptor.digest, error: String(err) });
    }
  }

  async #stream(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    session: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    this.#progress.onStart?.(descriptor, destination.display);
    let outcome: BlobOutcome | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        const floor = new RateFloor(this.#minRate, source, destination, descriptor);
        try {
          // One stream from source to upload: read (resuming with Range), verify, send.
          const chunks = verifyDigest(
            this.#read(source, descriptor, floor, signal),
            descriptor.digest,
            descriptor.size,
          );
          const body = Readable.from(chunks, { objectMode: false, highWaterMark: 1 << 20 });
          await destination.writeBlob(descriptor, body, attempt === 0 ? session : undefined);
          outcome = { kind: 'copied', bytes: descriptor.size };
          return;
        } catch (err) {
          const retryable = err instanceof FerryError ? err.retryable : isTransientNetworkError(err);
          if (!retryable || attempt + 1 >= this.#retry.attempts || signal?.aborted) throw err;
          const delay = backoffDelay(this.#retry, attempt);
          this.#logger.warn('blob transfer failed; restarting', {
            digest: descriptor.digest,
            attempt: attempt + 1,
            delay,
            error: String(err),
          });
          await sleep(delay, signal);
        } finally {
          // Also when the body was not read to its end (the upload failed first).
          floor.stop();
        }
      }
    } finally {
      this.#progress.onEnd?.(descriptor, outcome);
    }
  }

  /**
   * The source blob's bytes. A body that breaks off (reset, truncation) is resumed with `Range`
   * from the byte reached, so one hiccup does not restart a large layer; one slower than the
   * `floor` fails the attempt.
   */
  async *#read(
    source: Repository,
    descriptor: Descriptor,
    floor: RateFloor,
    signal?: AbortSignal,
  ): AsyncGenerator<Buffer> {
    let offset = 0;
    let failures = 0;
    floor.start();
    for (;;) {
      signal?.throwIfAborted();
      let opened;
      try {
        opened = await unlessAborted(source.openBlob(descriptor, offset), signal);
      } catch (err) {
        if (floor.failure) throw floor.failure;
        if (!(err instanceof FerryError && err.retryable) || ++failures >= this.#retry.attempts) throw err;
        await sleep(backoffDelay(this.#retry, failures), signal);
        continue;
      }
      floor.watch(opened.body);
      let skip = offset - opened.offset;
      // An abort (cancel) destroys the body, so a copy waiting on a stalled source stops at once.
      if (signal) addAbortSignal(signal, opened.body);
      try {
        for await (const raw of opened.body as AsyncIterable<Buffer>) {
          floor.add(raw.length);
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
          // Read to the end: the destination's commit that follows does not count against the rate.
          if (offset >= descriptor.size) floor.stop();
          yield chunk;
          if (offset > descriptor.size) return; // the verifier reports the overrun
        }
      } catch (err) {
        if (floor.failure) throw floor.failure;
        if (signal?.aborted || !isTransientNetworkError(err) || ++failures >= this.#retry.attempts)
          throw signal?.aborted ? err : bodyError(source, descriptor, err);
        this.#logger.warn('source body broke off; resuming with Range', { digest: descriptor.digest, offset });
        continue;
      }
      if (offset >= descriptor.size) return;
      // Ended early without an error: a truncated body. Resume from where it stopped.
      if (++failures >= this.#retry.attempts) return; // the verifier reports the short count
      this.#logger.warn('source body ended early; resuming with Range', {
        digest: descriptor.digest,
        offset,
        size: descriptor.size,
      });
    }
  }
}

/**
 * The opened blob, or the abort's reason as soon as the signal fires: a stalled source may take
 * long to answer at all. A body that arrives after the abort is destroyed, never left open.
 */
function unlessAborted(opening: Promise<BlobBody>, signal: AbortSignal | undefined): Promise<BlobBody> {
  if (!signal) return opening;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      opening.then(
        (late) => {
          // WARNING: undici's body emits 'error' when destroyed: unheard, it would crash the process.
          late.body.on('error', () => undefined);
          late.body.destroy();
        },
        () => undefined,
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    opening.then(
      (opened) => {
        signal.removeEventListener('abort', onAbort);
        resolve(opened);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
