import { addAbortSignal } from 'node:stream';
import { describeError, errorCodes, FerryError, TransportError } from '../oci/errors.js';
import type { Descriptor } from '../oci/manifest.js';
import type { BlobBody, Repository } from '../oci/repository.js';
import { type Clock, isRetryable } from '../oci/retry.js';
import type { TransferDecisions } from './blob-decisions.js';
import type { RateFloor } from './rate-floor.js';

/** How one read of a source blob runs. */
export interface ReadOptions {
  readonly floor: RateFloor;
  readonly decisions: TransferDecisions;
  readonly clock: Clock;
  readonly signal?: AbortSignal | undefined;
  /** Bytes passed on so far (after each chunk). */
  readonly onBytes?: ((done: number) => void) | undefined;
  /** The first byte wanted (a parked upload's offset): the read starts there, with `Range`. */
  readonly start?: number;
}

/**
 * The source blob's bytes, from 0 (or `start`) to its end, for the digest verifier in front of the upload.
 * A body that breaks off (reset, truncation) or an open that fails is decided on once per
 * failure by `decisions`: resumed with `Range` from the byte reached, or read from 0 again with
 * the bytes already passed on dropped (a source that ignores `Range`) — the verifier sees one
 * continuous stream either way. A body slower than the floor fails the read (the caller restarts).
 */
export async function* readResumable(
  source: Repository,
  descriptor: Descriptor,
  options: ReadOptions,
): AsyncGenerator<Buffer> {
  const { floor, decisions, signal } = options;
  let offset = options.start ?? 0;
  const decide = async (err: unknown): Promise<void> => {
    const { delayMs } = decisions.decide(err, 'source', offset, 'kept', signal);
    if (delayMs > 0) await options.clock.sleep(delayMs, signal);
  };
  floor.start();
  for (;;) {
    signal?.throwIfAborted();
    let opened: BlobBody;
    try {
      // Once the source showed it ignores Range, ask for what it will send anyway.
      opened = await unlessAborted(source.openBlob(descriptor, decisions.rangeIgnored ? 0 : offset), signal);
    } catch (err) {
      if (floor.failure) throw floor.failure;
      await decide(err);
      continue;
    }
    if (opened.offset < offset) decisions.rangeIgnored = true;
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
        options.onBytes?.(offset);
        // Read to the end: the destination's commit that follows does not count against the rate.
        if (offset >= descriptor.size) floor.stop();
        yield chunk;
        if (offset > descriptor.size) return; // the verifier reports the overrun
      }
    } catch (err) {
      if (floor.failure) throw floor.failure;
      if (signal?.aborted) throw err;
      await decide(bodyError(source, descriptor, err));
      continue;
    }
    if (offset >= descriptor.size) return;
    // Ended early without an error: a truncated body. Resume from where it stopped.
    const truncated = new TransportError(
      `${source.display}: blob ${descriptor.digest}: body ended at ${offset} of ${descriptor.size} bytes`,
      { registry: source.registry ?? source.display, repository: source.name },
    );
    try {
      await decide(truncated);
    } catch {
      return; // the verifier reports the short count, as a DigestMismatchError
    }
  }
}

/** A source body's failure as one line naming registry, repository and blob (undici's own errors name none). */
function bodyError(source: Repository, descriptor: Descriptor, err: unknown): unknown {
  if (err instanceof FerryError) return err;
  const cause = errorCodes(err).includes('UND_ERR_BODY_TIMEOUT')
    ? 'no data within the idle timeout'
    : describeError(err);
  return new TransportError(`${source.display}: blob ${descriptor.digest}: ${cause}`, {
    registry: source.registry ?? source.display,
    repository: source.name,
    retryable: isRetryable(err),
    cause: err,
  });
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
