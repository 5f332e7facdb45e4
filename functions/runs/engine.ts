import { ChainedCredentials, type Credential, type CredentialStore } from '../oci/auth/credentials.js';
import type { Digest } from '../oci/digest.js';
import type { ManifestDeleter } from '../oci/manifest-deleter.js';
import type { Logger } from '../oci/log.js';
import type { ImageReference, Location } from '../oci/reference.js';
import { locationReference, type Role } from '../oci/registries.js';
import type { Repository, RepositoryRef } from '../oci/repository.js';
import type { Clock } from '../oci/retry.js';
import { Transport, type TransportOptions } from '../oci/transport.js';
import type { SharedBlobs } from '../mirror/blob-copier.js';
import type { ImageCopier, PrepareDestination } from '../mirror/copy-image.js';
import { createCopyEngine } from '../mirror/engine.js';
import { PullBudget } from '../mirror/pull-budget.js';
import { type BudgetState, MemoryPullBudgetStore, type PullBudgetStore } from '../mirror/pull-budget-state.js';
import { transportBytesGetter } from '../mirror/helm/http.js';
import { transportBytesGetter as releaseBytesGetter, transportJsonGetter } from '../mirror/release/graph-http.js';
import { fetchReleaseSignatures } from '../mirror/release/signatures.js';
import { sameRegistry } from './credential-binding.js';
import { CredentialError } from './errors.js';
import type { EcrScope } from './ecr-scope.js';
import type { CredentialRef, RunRecord } from './model.js';
import type { CredentialVault } from './ports.js';

/** The copy engine for one run: its credentials, its transport, one blob copier shared by its images. */
export interface RunEngine {
  /** A repository of the run as source or destination: its credentials, ECR scope and transport applied. */
  repository(location: Location, role: 'source' | 'destination'): Repository;
  readonly copier: ImageCopier;
  /** Deletes destination manifests (prune runs); absent: the registry API's DELETE. */
  readonly deleter?: ManifestDeleter;
  /** The update graph's GET through the run's transport (`mirror.platform.channels`), and its URL override. */
  readonly getJson?: (url: string) => Promise<unknown>;
  readonly updateGraphUrl?: string;
  /** A capped GET through the run's transport (`mirror.helm`'s indexes and charts); see transportBytesGetter. */
  readonly getBytes?: (url: string, maxBytes: number) => Promise<Buffer>;
  /** A release's signatures from the signature store (FERRY_RELEASE_SIGNATURES_URL); absent: none configured. */
  readonly releaseSignatures?: (digest: Digest) => Promise<Buffer[]>;
  /** What this process last learnt of an upstream's pull budget (a dry run reports it); undefined: unknown. */
  readonly pullBudget?: (registry: string) => Promise<BudgetState | undefined>;
}

/** One side of a run's copy: the repository of `ref` through the run's engine, and the digest or tag `ref` names. */
export function runImage(engine: RunEngine, ref: ImageReference, role: Role): RepositoryRef {
  const location: Location = { kind: 'registry', ref };
  return { repository: engine.repository(location, role), reference: locationReference(location) };
}

/** Where the workflow tasks get a run's engine (EngineFactory; an in-memory one in unit tests). */
export interface RunEngines {
  forRun(run: RunRecord): RunEngine;
}

export interface EngineFactoryDeps {
  readonly vault: CredentialVault;
  /** Transport settings every run shares (the guard, endpoint overrides, retry timing). */
  readonly transport?: TransportOptions;
  readonly logger: Logger;
  /** ECR through IAM (this role, or the run's destination role): credentials and repository creation. */
  readonly ecr?: (roleArn?: string) => {
    credentials: CredentialStore;
    prepare: PrepareDestination;
    /** BatchDeleteImage on ECR hosts, the registry API elsewhere. */
    deleter?: ManifestDeleter;
  };
  /**
   * Blob streams at once per run in this process. A Lambda container copies one image at a time,
   * so the default (6) is per image; `ferry serve` runs every Map iteration in one process and
   * passes 6 × the Map's concurrency, so ten images copy as ten Lambdas would.
   */
  readonly blobConcurrency?: number;
  /**
   * The blob index and transfer claims shared by every process (the run table): a Lambda mounts
   * a layer another Lambda put, or is putting, into a sibling repository instead of streaming it.
   */
  readonly sharedBlobs?: SharedBlobs;
  /** The ECR repositories runs may use (the deployed service); absent: no limit (`ferry serve`, the CLI). */
  readonly ecrScope?: EcrScope;
  /** The OpenShift update graph (UPDATE_URL_OVERRIDE); absent: OpenShift's. */
  readonly updateGraphUrl?: string;
  /** The release signature store (FERRY_RELEASE_SIGNATURES_URL); absent: release signatures are not fetched. */
  readonly releaseSignaturesUrl?: string;
  /** Upstream pull budgets (Docker Hub's rate limit) every run of this process spends. */
  readonly pullBudget?: PullBudgetDeps;
}

/** Where a service keeps pull budgets, and how long its copies may wait for one. */
export interface PullBudgetDeps {
  /** The run table in the deployed service (shared by every Lambda); absent: this process's memory (`ferry serve`). */
  readonly store?: PullBudgetStore;
  /** How long a copy may wait for a window now (default {@link defaultPullWaitMs}); a longer wait fails the image. */
  readonly maxWaitMs?: () => number;
  /** Pulls kept back (default 0). */
  readonly reserve?: number;
  readonly clock?: Clock;
}

/**
 * The longest a service copy waits for an upstream's window: 10 minutes of a copy-image Lambda's
 * 15, leaving it time to copy. A window that resets later (Docker Hub's are six hours) fails the
 * image with a PullBudgetError that says when it resets: a Step Functions retry minutes later
 * would find the same budget and spend another Lambda waiting; the next run (or schedule) copies
 * what is missing, since copies are keyed by digest.
 */
export const defaultPullWaitMs = 10 * 60_000;

/** Blob streams at once for one image (one copy-image Lambda). */
export const blobsPerImage = 6;

/**
 * Credentials from a run's references, resolved on first use per host.
 * WARNING: this is where a credential is chosen for a host, so this is where the binding holds:
 * a secret bound to another registry is refused (CredentialError) before any request carries it.
 */
class RunCredentials implements CredentialStore {
  readonly #refs: Readonly<Record<string, CredentialRef>>;
  readonly #vault: CredentialVault;
  readonly #cache = new Map<string, Promise<Credential | undefined>>();
  constructor(refs: Readonly<Record<string, CredentialRef>>, vault: CredentialVault) {
    this.#refs = refs;
    this.#vault = vault;
  }
  get(registry: string): Promise<Credential | undefined> {
    let found = this.#cache.get(registry);
    if (!found) {
      const ref = Object.entries(this.#refs).find(([host]) => sameRegistry(host, registry))?.[1];
      found = ref ? this.#bound(ref, registry) : Promise.resolve(undefined);
      this.#cache.set(registry, found);
    }
    return found;
  }
  async #bound(ref: CredentialRef, registry: string): Promise<Credential> {
    const resolved = await this.#vault.resolve(ref);
    if (!sameRegistry(resolved.registry, registry)) {
      throw new CredentialError(
        'CREDENTIAL_NOT_BOUND',
        `credential ${ref.secretArn} is bound to registry ${resolved.registry}, not ${registry}: Ferry sends a secret only to the registry it names (tag ferry:registry or its "registry" field)`,
      );
    }
    return resolved.credential;
  }
}

/** Builds (and keeps a few of) the engines of runs, so images of one run share in-flight blobs. */
export class EngineFactory implements RunEngines {
  readonly #deps: EngineFactoryDeps;
  readonly #engines = new Map<string, RunEngine>();
  /** One transport (connection pools, scheme cache) per set of insecure hosts, shared by runs. */
  readonly #transports = new Map<string, Transport>();
  /** Budgets are per upstream identity, not per run: every run of this process spends the same ones. */
  readonly #pulls: PullBudget;

  constructor(deps: EngineFactoryDeps) {
    this.#deps = deps;
    const budget = deps.pullBudget ?? {};
    this.#pulls = new PullBudget({
      store: budget.store ?? new MemoryPullBudgetStore(),
      maxWaitMs: budget.maxWaitMs ?? (() => defaultPullWaitMs),
      ...(budget.reserve === undefined ? {} : { reserve: budget.reserve }),
      ...(budget.clock ? { clock: budget.clock } : {}),
      logger: deps.logger,
      onWait: (wait) => deps.logger.info(wait.message, { registry: wait.registry, repository: wait.repository }),
    });
  }

  forRun(run: RunRecord): RunEngine {
    let engine = this.#engines.get(run.runId);
    if (!engine) {
      const { destination, sourceCredentials } = run.options;
      const destinationEcr = this.#deps.ecr?.(destination.roleArn);
      const scope = this.#deps.ecrScope;
      const { registries, copier, transport } = createCopyEngine({
        // Shared by runs and closed by close(), not by the run's engine.
        transport: this.#transport(destination.insecure ? [destination.registry] : []),
        sourceCredentials: this.#withEcr(new RunCredentials(sourceCredentials, this.#deps.vault), this.#deps.ecr?.()),
        destinationCredentials: this.#withEcr(
          new RunCredentials(
            destination.credentials ? { [destination.registry]: destination.credentials } : {},
            this.#deps.vault,
          ),
          destinationEcr,
        ),
        logger: this.#deps.logger,
        pulls: this.#pulls,
        // Repositories outside the deployment's ECR prefixes are refused before any request.
        ...(scope ? { checkRepository: (registry, repository) => scope.check(registry, repository) } : {}),
        blobs: {
          concurrency: this.#deps.blobConcurrency ?? blobsPerImage,
          ...(this.#deps.sharedBlobs ? { shared: this.#deps.sharedBlobs } : {}),
        },
        ...(destinationEcr ? { prepareDestination: destinationEcr.prepare } : {}),
      });
      engine = {
        repository: (location, role) => registries.repository(location, role),
        copier,
        ...(destinationEcr?.deleter ? { deleter: destinationEcr.deleter } : {}),
        getJson: (url) => transportJsonGetter(transport).getJson(url),
        getBytes: (url, maxBytes) => transportBytesGetter(transport).getBytes(url, maxBytes),
        ...(this.#deps.updateGraphUrl ? { updateGraphUrl: this.#deps.updateGraphUrl } : {}),
        ...(this.#deps.releaseSignaturesUrl ? { releaseSignatures: this.#signatures(transport) } : {}),
        pullBudget: (registry) => this.#pulls.known(registry),
      };
      this.#engines.set(run.runId, engine);
      while (this.#engines.size > 8) this.#engines.delete(this.#engines.keys().next().value!);
    }
    return engine;
  }

  #signatures(transport: Transport): (digest: Digest) => Promise<Buffer[]> {
    const store = this.#deps.releaseSignaturesUrl!;
    const getter = releaseBytesGetter(transport);
    return (digest) => fetchReleaseSignatures(store, digest, getter);
  }

  /** Closes every connection pool (server shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.#transports.values()].map((t) => t.close()));
  }

  #transport(insecure: readonly string[]): Transport {
    const key = insecure.join(',');
    let transport = this.#transports.get(key);
    if (!transport) {
      const options = this.#deps.transport ?? {};
      transport = new Transport({ ...options, insecureHosts: [...(options.insecureHosts ?? []), ...insecure] });
      this.#transports.set(key, transport);
    }
    return transport;
  }

  #withEcr(store: CredentialStore, ecr: { credentials: CredentialStore } | undefined): CredentialStore {
    return ecr ? new ChainedCredentials([store, ecr.credentials]) : store;
  }
}
