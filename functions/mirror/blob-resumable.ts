import { chunkSizeWithin } from '../oci/chunk-rules.js';
import type { Digest } from '../oci/digest.js';
import { DigestMismatchError, UploadUnknownError } from '../oci/errors.js';
import type { Descriptor } from '../oci/manifest.js';
import type { ChunkedUploads, Repository, UploadState } from '../oci/repository.js';
import { createResumableHash, type ResumableHash } from '../oci/resumable-hash.js';
import type { ParkedUpload } from './blob-checkpoint.js';
import { type StreamContext, transferDecisions } from './blob-stream.js';
import type { Parking } from './deadline.js';
import { RateFloor } from './rate-floor.js';
import { readResumable } from './resumable-read.js';

/** What a blob that may park needs besides a stream's context. */
export interface ParkingContext {
  readonly parking: Parking;
  /** Part size wanted (brought within the registry's rules; default 16 MiB). */
  readonly chunkSize?: number;
}

/** What the blob ladder asks of an image copy that may park. */
export interface BlobParking extends ParkingContext {
  /** The parked upload of `digest` from the checkpoint, if any. */
  parkedUpload(digest: Digest): ParkedUpload | undefined;
}

/** A chunked transfer's end: the blob committed, or parked (`upload` undefined: nothing was sent yet). */
export type ChunkedOutcome =
  | { readonly kind: 'copied'; readonly bytes: number; readonly note?: string }
  | { readonly kind: 'parked'; readonly bytes: number; readonly upload?: ParkedUpload; readonly note?: string };

/**
 * One session's transfer: where the session is, the hash (which may run one part ahead of the
 * session), and `saved`, the hash's state at `state.offset`: what a checkpoint stores.
 */
interface Leg {
  state: UploadState;
  readonly hash: ResumableHash;
  saved: string;
}

/**
 * Streams one blob into a chunked upload session that may outlive this process: the source is
 * read from the session's offset (`Range`), every whole part is hashed and appended, and when
 * the deadline comes near the blob parks at the last whole part — the hash state saved with the
 * session's Location and offset. Going on from a parked upload confirms the offset with the
 * registry first. A session the registry lost restarts the blob from 0, once (said in `note`).
 *
 * WARNING: the digest is checked over every byte before the last part is appended and the
 * session committed: a wrong blob is cancelled, never committed.
 */
export async function streamChunked(
  source: Repository,
  destination: Repository,
  uploads: ChunkedUploads,
  descriptor: Descriptor,
  from: { readonly parked: ParkedUpload | undefined; readonly session: string | undefined },
  context: StreamContext & ParkingContext,
  signal?: AbortSignal,
): Promise<ChunkedOutcome> {
  const { parked } = from;
  let { session } = from;
  let restarted = parked?.restarted ?? false;
  let note: string | undefined;
  const lost = (err: UploadUnknownError): void => {
    if (restarted) throw err;
    restarted = true;
    note = `${destination.display}: the upload session of ${descriptor.digest} was lost (${err.message}); restarted it from byte 0`;
    context.logger.info('upload session lost: restart blob from 0', { digest: descriptor.digest, error: err.message });
  };
  const unknown = (why: string): UploadUnknownError =>
    new UploadUnknownError(`${destination.display}: upload session ${why}`, {
      registry: destination.registry ?? destination.display,
      repository: destination.name,
    });
  let leg = parked === undefined ? undefined : await reopen(uploads, descriptor, parked, (why) => lost(unknown(why)));
  context.progress.onStart?.(descriptor, destination.display);
  let end: ChunkedOutcome | undefined;
  try {
    for (;;) {
      leg ??= await freshLeg(uploads, descriptor, session);
      session = undefined;
      const startedAt = leg.state.offset;
      try {
        const result = await transfer(source, destination, uploads, descriptor, leg, context, signal);
        end = result === undefined ? { kind: 'copied', bytes: descriptor.size - startedAt } : result;
        if (end.kind === 'parked') end = { ...end, upload: withRestart(end.upload, restarted) };
        return note === undefined ? end : { ...end, note };
      } catch (err) {
        if (!(err instanceof UploadUnknownError)) throw err;
        lost(err);
        leg = undefined;
      }
    }
  } finally {
    const outcome = end?.kind === 'copied' ? { kind: 'copied' as const, bytes: descriptor.size } : undefined;
    context.progress.onEnd?.(descriptor, outcome);
  }
}

/** The parked session, confirmed by the registry (its `Range`), with the hash restored; undefined when lost. */
async function reopen(
  uploads: ChunkedUploads,
  descriptor: Descriptor,
  parked: ParkedUpload,
  lost: (why: string) => void,
): Promise<Leg | undefined> {
  const status = await uploads.status(parked.location);
  if (status !== undefined && status.offset === parked.offset)
    return { state: status, hash: await createResumableHash(descriptor.digest, parked.hash), saved: parked.hash };
  if (status !== undefined) await uploads.cancel(status.location);
  lost(status === undefined ? 'unknown to the registry' : `at ${status.offset} bytes, not ${parked.offset}`);
  return undefined;
}

/** A new session (or the one a refused mount opened) at offset 0, with a new hash. */
async function freshLeg(uploads: ChunkedUploads, descriptor: Descriptor, session: string | undefined): Promise<Leg> {
  const state = session === undefined ? await uploads.start() : { location: session, offset: 0 };
  const hash = await createResumableHash(descriptor.digest);
  return { state, hash, saved: hash.save() };
}

function withRestart(upload: ParkedUpload | undefined, restarted: boolean): ParkedUpload | undefined {
  return upload === undefined ? undefined : { ...upload, restarted };
}

/**
 * One leg: reads from `leg.state.offset` to the end, appending whole parts. Returns undefined once
 * committed, or the parked outcome. Any failure but a lost session cancels the session.
 */
async function transfer(
  source: Repository,
  destination: Repository,
  uploads: ChunkedUploads,
  descriptor: Descriptor,
  leg: Leg,
  context: StreamContext & ParkingContext,
  signal: AbortSignal | undefined,
): Promise<ChunkedOutcome | undefined> {
  const { parking, clock } = context;
  const part = chunkSizeWithin(uploads.rules, context.chunkSize);
  const startedAt = leg.state.offset;
  const park = (): Promise<ChunkedOutcome> => leaveOrCancel(uploads, leg, parkedAt(descriptor, leg, startedAt));
  if (parking.due(part)) return park();
  const floor = new RateFloor(context.minRate, source, destination, descriptor, clock);
  const pending = new PartBuffer();
  const appender = new Appender(uploads, leg, parking, clock);
  /** Bytes hashed: the session's offset, and the part in flight. */
  let hashed = leg.state.offset;
  try {
    const chunks = readResumable(source, descriptor, {
      floor,
      decisions: transferDecisions(source, destination, descriptor, context),
      clock,
      signal,
      start: leg.state.offset,
      onBytes: (n) => context.progress.onBytes?.(descriptor, n),
    });
    for await (const chunk of chunks) {
      pending.push(chunk);
      if (hashed + pending.length > descriptor.size)
        throw new DigestMismatchError(
          `blob ${descriptor.digest} is longer than its descriptor's ${descriptor.size} bytes`,
        );
      // Whole parts, but never the blob's last: it is appended only once the digest checked out.
      while (pending.length >= part && hashed + part < descriptor.size) {
        const bytes = pending.take(part);
        leg.hash.update(bytes);
        hashed += part;
        await appender.add(bytes, leg.hash.save());
      }
      // Read to the end: one append and the commit are left, which the margin is for.
      if (hashed + pending.length < descriptor.size && parking.due(part)) {
        await appender.settled();
        return await park();
      }
    }
    const last = pending.take(pending.length);
    const read = hashed + last.length;
    if (read !== descriptor.size)
      throw new DigestMismatchError(`blob ${descriptor.digest} ended after ${read} of ${descriptor.size} bytes`);
    leg.hash.update(last);
    await appender.settled();
    const actual = leg.hash.digest();
    if (actual !== descriptor.digest)
      throw new DigestMismatchError(
        `${source.display}: blob content hashes to ${actual}, expected ${descriptor.digest} (read from ${startedAt === 0 ? 'byte 0' : `byte ${startedAt} on, after a parked upload: the source's bytes changed`}); the upload was cancelled, nothing committed`,
      );
    if (last.length > 0) leg.state = await uploads.append(leg.state, last);
    await uploads.commit(leg.state, descriptor.digest);
    return undefined;
  } catch (err) {
    const settled = await appender.settled().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof UploadUnknownError) && !(settled instanceof UploadUnknownError))
      await uploads.cancel(leg.state.location);
    throw err;
  } finally {
    floor.stop();
  }
}

/**
 * Appends hashed parts one at a time while the next one is read and hashed: reading waits on a
 * PATCH only when the next part is ready before the last one was taken. The session's offset and
 * the hash state saved with it move together, once the registry took the part.
 */
class Appender {
  readonly #uploads: ChunkedUploads;
  readonly #leg: Leg;
  readonly #parking: Parking;
  readonly #clock: StreamContext['clock'];
  #inFlight: Promise<void> = Promise.resolve();

  constructor(uploads: ChunkedUploads, leg: Leg, parking: Parking, clock: StreamContext['clock']) {
    this.#uploads = uploads;
    this.#leg = leg;
    this.#parking = parking;
    this.#clock = clock;
  }

  /** Sends `bytes` once the part before it is in; `saved`: the hash state after them. */
  async add(bytes: Buffer, saved: string): Promise<void> {
    await this.#inFlight;
    const started = this.#clock.now();
    this.#inFlight = this.#uploads.append(this.#leg.state, bytes).then((state) => {
      this.#leg.state = state;
      this.#leg.saved = saved;
      this.#parking.observe(bytes.length, this.#clock.now() - started);
    });
    // Its failure is thrown by the next add or settled(); unheard until then, it is not unhandled.
    this.#inFlight.catch(() => undefined);
  }

  /** Resolves once the part in flight is in (rejects with its failure). */
  settled(): Promise<void> {
    return this.#inFlight;
  }
}

/** The parked outcome at the last whole part appended; the bytes read past it are dropped. */
function parkedAt(descriptor: Descriptor, leg: Leg, startedAt: number): ChunkedOutcome {
  const { state, saved } = leg;
  if (state.offset === 0) return { kind: 'parked', bytes: 0 };
  const upload: ParkedUpload = {
    digest: descriptor.digest,
    size: descriptor.size,
    location: state.location,
    offset: state.offset,
    hash: saved,
    restarted: false,
  };
  return { kind: 'parked', bytes: state.offset - startedAt, upload };
}

/** A parked outcome with nothing in its session: the session is cancelled rather than left to expire. */
async function leaveOrCancel(uploads: ChunkedUploads, leg: Leg, outcome: ChunkedOutcome): Promise<ChunkedOutcome> {
  if (outcome.kind === 'parked' && outcome.upload === undefined) await uploads.cancel(leg.state.location);
  return outcome;
}

/** Chunks read but not yet appended; `take` gives the first `n` bytes as one Buffer. */
class PartBuffer {
  #chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    // Always fresh memory (concat copies even one chunk): a pooled read buffer may be reused.
    const all = Buffer.concat(this.#chunks, this.length);
    const bytes = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return bytes;
  }
}
