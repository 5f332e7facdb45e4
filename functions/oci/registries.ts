import type { CredentialStore } from './auth/credentials.js';
import { parseEcrHost } from './ecr-host.js';
import { silentLogger, type Logger } from './log.js';
import type { PullGate } from './pull-gate.js';
import { type Location, manifestRef } from './reference.js';
import { RegistryClient } from './registry-client.js';
import { RegistryRepository, type UploadMode } from './registry-repository.js';
import { LayoutRepository } from './layout-repository.js';
import type { Repository, RepositoryRef } from './repository.js';
import type { Transport } from './transport.js';

export interface RegistriesOptions {
  readonly transport: Transport;
  /** Credentials for reading (sources). */
  readonly sourceCredentials: CredentialStore;
  /** Credentials for writing (destinations). */
  readonly destinationCredentials: CredentialStore;
  readonly logger?: Logger;
  /** How uploads go to a host; default `put`. */
  readonly uploadMode?: (registry: string) => UploadMode;
  /**
   * Called with every registry repository before a handle to it is made; throw to refuse it (the
   * deployed service's ECR scope), so no request ever reaches a repository outside it.
   */
  readonly checkRepository?: (registry: string, repository: string) => void;
  /** The pull budget every manifest GET spends (Docker Hub's rate limit); absent: GETs are not metered. */
  readonly pulls?: PullGate;
}

/** Which side of a copy a repository is on: sources are read with source credentials, destinations pushed to. */
export type Role = 'source' | 'destination';

/**
 * The tag or digest a location names: a layout's tag (`latest` without one); a registry
 * reference's digest, else its tag, else `latest`.
 */
export function locationReference(location: Location): string {
  return location.kind === 'layout' ? (location.ref.tag ?? 'latest') : manifestRef(location.ref);
}

/**
 * Builds repositories for locations, one client (and so one token cache) per registry host and
 * role, and one layout handle per directory, so concurrent copies share connections and tokens.
 */
export class Registries {
  readonly #options: RegistriesOptions;
  readonly #clients = new Map<string, RegistryClient>();
  readonly #layouts = new Map<string, LayoutRepository>();

  constructor(options: RegistriesOptions) {
    this.#options = options;
  }

  client(registry: string, role: Role): RegistryClient {
    const key = `${role} ${registry}`;
    let client = this.#clients.get(key);
    if (!client) {
      const credentials = role === 'source' ? this.#options.sourceCredentials : this.#options.destinationCredentials;
      client = new RegistryClient(
        registry,
        this.#options.transport,
        credentials,
        this.#options.logger ?? silentLogger,
        this.#options.pulls,
      );
      this.#clients.set(key, client);
    }
    return client;
  }

  /** One side of a copy straight from a location: its repository and the reference it names ({@link locationReference}). */
  image(location: Location, role: Role): RepositoryRef {
    return { repository: this.repository(location, role), reference: locationReference(location) };
  }

  repository(location: Location, role: Role): Repository {
    if (location.kind === 'layout') {
      let layout = this.#layouts.get(location.ref.dir);
      if (!layout) {
        layout = new LayoutRepository(location.ref.dir);
        this.#layouts.set(location.ref.dir, layout);
      }
      return layout;
    }
    const { registry, repository } = location.ref;
    this.#options.checkRepository?.(registry, repository);
    return new RegistryRepository(this.client(registry, role), repository, {
      push: role === 'destination',
      // ECR takes no monolithic PUT with a body: one streamed PATCH, then PUT ?digest=.
      uploadMode: this.#options.uploadMode?.(registry) ?? (parseEcrHost(registry) ? 'patch' : 'put'),
    });
  }
}
