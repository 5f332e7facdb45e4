import type { CredentialStore } from '../oci/auth/credentials.js';
import { silentLogger, type Logger } from '../oci/log.js';
import { Registries } from '../oci/registries.js';
import type { PullGate } from '../oci/pull-gate.js';
import type { UploadMode } from '../oci/registry-repository.js';
import { Transport, type TransportOptions } from '../oci/transport.js';
import { BlobCopier, type BlobCopierOptions } from './blob-copier.js';
import { ImageCopier, type PrepareDestination } from './copy-image.js';

/** The blob and image layer of the engine: what copies between any two Repositories. */
export interface CopierOptions {
  readonly logger?: Logger;
  /** The blob ladder: concurrency, shared index and leases, progress, minimum rate, retries (logger defaults to the engine's). */
  readonly blobs?: BlobCopierOptions;
  /** Creates a destination repository before the first write (ECR). */
  readonly prepareDestination?: PrepareDestination;
  /** An index's children handled at once per image. */
  readonly manifestConcurrency?: number;
}

export interface CopyEngineOptions extends CopierOptions {
  /** A transport to share (the engine leaves closing it to its owner), or the settings of the engine's own. */
  readonly transport?: Transport | TransportOptions;
  /** Credentials for reading sources. */
  readonly sourceCredentials: CredentialStore;
  /** Credentials for pushing to destinations. */
  readonly destinationCredentials: CredentialStore;
  /** Refuses a registry repository before any request to it (the deployed service's ECR scope). */
  readonly checkRepository?: (registry: string, repository: string) => void;
  /** How uploads go to a host (tests force one); default: by registry. */
  readonly uploadMode?: (registry: string) => UploadMode;
  /** The pull budget manifest GETs spend (`PullBudget`); absent: not metered. */
  readonly pulls?: PullGate;
}

/** The copy engine of one process or run: Transport → Registries → BlobCopier → ImageCopier. */
export interface CopyEngine {
  readonly transport: Transport;
  readonly registries: Registries;
  readonly copier: ImageCopier;
  /** Closes the transport when the engine built it; a shared one stays open. */
  close(): Promise<void>;
}

/** The BlobCopier → ImageCopier layer alone: copies between Repositories of any kind (in-memory ones in unit tests). */
export function createCopier(options: CopierOptions = {}): ImageCopier {
  const logger = options.logger ?? silentLogger;
  const blobs = new BlobCopier({ logger, ...options.blobs });
  return new ImageCopier(blobs, {
    logger,
    ...(options.prepareDestination ? { prepareDestination: options.prepareDestination } : {}),
    ...(options.manifestConcurrency === undefined ? {} : { manifestConcurrency: options.manifestConcurrency }),
  });
}

/**
 * Wires the copy engine — the one place that does: the CLI, the run engines of the Lambdas and
 * `ferry serve`, and the tests all build it here. Repositories come from `registries`
 * (`registries.image(location, role)` for one side of a copy); `copier` copies between them.
 */
export function createCopyEngine(options: CopyEngineOptions): CopyEngine {
  const owned = !(options.transport instanceof Transport);
  const transport = options.transport instanceof Transport ? options.transport : new Transport(options.transport);
  const registries = new Registries({
    transport,
    sourceCredentials: options.sourceCredentials,
    destinationCredentials: options.destinationCredentials,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.uploadMode ? { uploadMode: options.uploadMode } : {}),
    ...(options.checkRepository ? { checkRepository: options.checkRepository } : {}),
    ...(options.pulls ? { pulls: options.pulls } : {}),
  });
  return {
    transport,
    registries,
    // Blob retries draw on the same per-host budget as the registry client's request retries.
    copier: createCopier({ ...options, blobs: { budgets: transport.budgets, ...options.blobs } }),
    close: () => (owned ? transport.close() : Promise.resolve()),
  };
}
