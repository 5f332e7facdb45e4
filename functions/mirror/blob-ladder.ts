import { chunkSizeWithin } from '../oci/chunk-rules.js';
import type { Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import type { Repository } from '../oci/repository.js';
import type { BlobClaims, ClaimResult } from './blob-claims.js';
import type { BlobLocations } from './blob-locations.js';
import { type BlobOutcome, skipped } from './blob-outcome.js';
import type { ParkedUpload } from './blob-checkpoint.js';
import { type BlobParking, streamChunked } from './blob-resumable.js';
import { type StreamContext, streamBlob } from './blob-stream.js';

/** Mounts tried per round: each refused one costs a round trip. */
const maxMountCandidates = 3;

/**
 * The ladder for one blob, one log line per decision:
 * 1. destination HEAD → skip;
 * 2. mount from a repository of the destination's registry known to hold it (the source's own
 *    repository first when both are on one registry, then this process's, then the shared index's);
 * 3. claim the transfer (large blobs, with leases) or wait for its holder and mount;
 * 4. stream source → destination, into the upload session a refused mount opened.
 */
export class BlobLadder {
  readonly #locations: BlobLocations;
  readonly #claims: BlobClaims;
  readonly #stream: StreamContext;
  readonly #logger: Logger;

  constructor(locations: BlobLocations, claims: BlobClaims, stream: StreamContext) {
    this.#locations = locations;
    this.#claims = claims;
    this.#stream = stream;
    this.#logger = stream.logger;
  }

  /** Climbs the ladder for `descriptor`; `registry` keys the destination's registry in the indexes. */
  async climb(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    registry: string,
    signal?: AbortSignal,
    park?: BlobParking,
  ): Promise<BlobOutcome> {
    // Queued behind the limiter while the copy was cancelled: start nothing.
    signal?.throwIfAborted();
    const parked = park?.parkedUpload(descriptor.digest);
    // Queued until the deadline came near: start nothing, keep what an earlier invocation parked.
    if (park?.parking.due(0)) return { kind: 'parked', bytes: 0, ...(parked ? { upload: parked } : {}) };
    const fields = { digest: descriptor.digest, destination: destination.display };
    if (await destination.headBlob(descriptor)) {
      this.#logger.debug('blob exists at destination: skip', fields);
      if (parked) await destination.uploads?.cancel(parked.location);
      await this.#remember(destination, registry, descriptor);
      return skipped;
    }
    if (parked && park)
      return this.#transfer(source, destination, descriptor, registry, { parked, session: undefined }, signal, park);
    const tried = new Set<string>();
    const mount = (locations: readonly string[]): Promise<{ outcome?: BlobOutcome; session?: string }> =>
      this.#mount(source, destination, descriptor, registry, locations, tried);
    const first = await mount(await this.#locations.locations(registry, descriptor));
    if (first.outcome) return first.outcome;
    let session = first.session;
    const claim = await this.#claim(destination, descriptor, registry, mount, signal);
    if ('outcome' in claim) return claim.outcome;
    // An upload opened before a long wait may have lapsed: start a new one.
    if (claim.waited) session = undefined;
    try {
      return await this.#transfer(source, destination, descriptor, registry, { session, parked }, signal, park);
    } finally {
      await claim.claim?.release();
    }
  }

  /**
   * Streams the blob: in chunks that may park at the deadline when the copy has one and the blob
   * is larger than one part (and the destination takes chunked uploads); else in one upload.
   */
  async #transfer(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    registry: string,
    from: { readonly session: string | undefined; readonly parked: ParkedUpload | undefined },
    signal: AbortSignal | undefined,
    park: BlobParking | undefined,
  ): Promise<BlobOutcome> {
    const fields = { digest: descriptor.digest, destination: destination.display, size: descriptor.size };
    const uploads = destination.uploads;
    let outcome: BlobOutcome = { kind: 'copied', bytes: descriptor.size };
    if (park && uploads && (from.parked || descriptor.size > chunkSizeWithin(uploads.rules, park.chunkSize))) {
      this.#logger.debug('blob streamed in parts', { ...fields, offset: from.parked?.offset ?? 0 });
      const context = {
        ...this.#stream,
        parking: park.parking,
        ...(park.chunkSize ? { chunkSize: park.chunkSize } : {}),
      };
      outcome = await streamChunked(source, destination, uploads, descriptor, from, context, signal);
      if (outcome.kind === 'parked') {
        this.#logger.info('blob parked at the deadline', { ...fields, offset: outcome.upload?.offset ?? 0 });
        return outcome;
      }
    } else {
      this.#logger.debug('blob streamed', fields);
      await streamBlob(source, destination, descriptor, from.session, this.#stream, signal);
    }
    await this.#remember(destination, registry, descriptor);
    return outcome;
  }

  /** Claims the transfer across processes when this blob uses the shared leases; else streams unclaimed. */
  #claim(
    destination: Repository,
    descriptor: Descriptor,
    registry: string,
    mount: (locations: readonly string[]) => Promise<{ outcome?: BlobOutcome }>,
    signal?: AbortSignal,
  ): Promise<ClaimResult> {
    const leases = this.#locations.leasesFor(descriptor);
    if (!leases || destination.registry === undefined) return Promise.resolve({ claim: undefined, waited: false });
    return this.#claims.claimOrWait(
      leases,
      registry,
      descriptor,
      destination,
      {
        poll: async () => {
          const locations = await this.#locations.locations(registry, descriptor);
          // The other process was copying into this very repository (another tag of it): it is here now.
          if (locations.includes(destination.name) && (await destination.headBlob(descriptor))) return skipped;
          return (await mount(locations)).outcome;
        },
        arrived: () => destination.headBlob(descriptor),
      },
      signal,
    );
  }

  /**
   * Mounts from a repository of the same registry known to hold the blob, skipping the ones
   * `tried` already. A refused mount may open an upload session, kept for streaming.
   */
  async #mount(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    registry: string,
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
        await this.#remember(destination, registry, descriptor);
        // The mount proved `from` still holds it: refreshed, it outlives locations nobody uses.
        await this.#locations.record(registry, descriptor, from);
        return { outcome: { kind: 'mounted', bytes: 0, from } };
      }
      // A location is trusted until a mount from it fails (repository deleted, blob gone): forgotten.
      this.#logger.debug('blob mount refused: location forgotten', {
        digest: descriptor.digest,
        destination: destination.display,
        from,
      });
      await this.#locations.forget(registry, descriptor, from);
      session ??= mount.session;
    }
    return session === undefined ? {} : { session };
  }

  /** Records that `destination` now holds the blob; an OCI layout is no mount source, so it is not recorded. */
  async #remember(destination: Repository, registry: string, descriptor: Descriptor): Promise<void> {
    if (destination.registry === undefined) return;
    await this.#locations.record(registry, descriptor, destination.name);
  }
}
