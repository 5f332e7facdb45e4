import { MemoryVault } from '../../../functions/local/memory-vault.js';
import { createCopier } from '../../../functions/mirror/engine.js';
import { MediaType } from '../../../functions/oci/media-types.js';
import type { Repository } from '../../../functions/oci/repository.js';
import { RunCancellations } from '../../../functions/runs/cancellation.js';
import type { EcrScope } from '../../../functions/runs/ecr-scope.js';
import type { RunEngine, RunEngines } from '../../../functions/runs/engine.js';
import type { ImageRecord, RunOptions, RunRecord } from '../../../functions/runs/model.js';
import type { EventPublisher } from '../../../functions/runs/ports.js';
import { RunTasks } from '../../../functions/runs/tasks.js';
import { memoryRegistry, type MemoryRepository, type RepositoryFaults } from '../../support/memory-repository.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';
import { inProgressRun, type RunOptionsInput } from '../../support/run-records.js';

type FinishedEvent = Parameters<EventPublisher['runFinished']>[0];

/** An EventPublisher that keeps what it was given. */
export class RecordingEvents implements EventPublisher {
  readonly published: FinishedEvent[] = [];
  async runFinished(detail: FinishedEvent): Promise<void> {
    this.published.push(detail);
  }
}

/**
 * RunEngines over in-memory registries (one per host, blobs mount between its repositories),
 * with the real ImageCopier and BlobCopier. Repositories exist on first use, as on a registry
 * that creates them on push; `scope` refuses repositories as the deployed service's does.
 */
export class MemoryEngines implements RunEngines {
  readonly #registries = new Map<string, (name: string, faults?: RepositoryFaults) => MemoryRepository>();
  readonly #repositories = new Map<string, MemoryRepository>();
  readonly #engines = new Map<string, RunEngine>();
  /** Destination repositories the copier prepared (created), in order. */
  readonly prepared: string[] = [];
  /** Thrown by prepare (an ECR that refuses to create the repository). */
  prepareFault: Error | undefined;
  scope: EcrScope | undefined;
  /** The release signature store engines see (absent: none configured). */
  releaseSignatures: RunEngine['releaseSignatures'];
  /** What the engines' `getBytes` serves (chart repositories), by URL; anything else is a 404. */
  readonly files = new Map<string, Buffer>();
  /** The URLs `getBytes` was asked for, in order. */
  readonly gets: string[] = [];

  /** The repository `host/name`, created empty on first use. */
  repo(host: string, name: string): MemoryRepository {
    const key = `${host}/${name}`;
    let found = this.#repositories.get(key);
    if (!found) {
      let registry = this.#registries.get(host);
      if (!registry) {
        registry = memoryRegistry(host);
        this.#registries.set(host, registry);
      }
      found = registry(name);
      this.#repositories.set(key, found);
    }
    return found;
  }

  forRun(run: RunRecord): RunEngine {
    let engine = this.#engines.get(run.runId);
    if (!engine) {
      const copier = createCopier({
        blobs: { retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 } },
        prepareDestination: (destination) => this.#prepare(destination),
      });
      engine = {
        repository: (location) => {
          if (location.kind !== 'registry') throw new Error('only registry locations in this fake');
          this.scope?.check(location.ref.registry, location.ref.repository);
          return this.repo(location.ref.registry, location.ref.repository);
        },
        copier,
        getBytes: async (url) => {
          this.gets.push(url);
          const body = this.files.get(url);
          if (body === undefined) throw new Error(`404 ${url}`);
          return body;
        },
        ...(this.releaseSignatures ? { releaseSignatures: this.releaseSignatures } : {}),
      };
      this.#engines.set(run.runId, engine);
    }
    return engine;
  }

  async #prepare(destination: Repository): Promise<void> {
    this.prepared.push(destination.display);
    if (this.prepareFault) throw this.prepareFault;
  }
}

/** Stores an image (config + one layer per string) under `tag`; returns its digest. */
export function addImage(repo: MemoryRepository, tag: string, layers: readonly string[]): string {
  const config = repo.addBlob(
    `{"architecture":"amd64","os":"linux","layers":${JSON.stringify(layers)}}`,
    MediaType.ociConfig,
  );
  const descriptors = layers.map((l) => repo.addBlob(l, MediaType.ociLayerGzip));
  return repo.addManifest({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: descriptors }, tag)
    .digest;
}

/** Bytes of an image's blobs as addImage stores them (what a copy moves). */
export function imageBytes(repo: MemoryRepository, digest: string): number {
  const manifest = repo.manifests.get(digest);
  if (!manifest || manifest.kind !== 'image') throw new Error(`no image ${digest}`);
  return [manifest.image.config, ...manifest.image.layers].reduce((n, d) => n + d.size, 0);
}

export const SRC = 'src.test';
export const DST = 'dst.test';

/** Everything a task test needs: the store, the engines, the events, the vault, the use cases. */
export interface Harness {
  readonly store: MemoryRunStore;
  readonly engines: MemoryEngines;
  readonly events: RecordingEvents;
  readonly vault: MemoryVault;
  readonly cancellations: RunCancellations;
  readonly tasks: RunTasks;
}

export function harness(options: { vault?: MemoryVault } = {}): Harness {
  const store = new MemoryRunStore();
  const engines = new MemoryEngines();
  const events = new RecordingEvents();
  const vault = options.vault ?? new MemoryVault();
  const cancellations = new RunCancellations();
  // The poll is far longer than any test: cancellation is seen through checkpoints and signals.
  const tasks = new RunTasks({ store, engines, events, vault, cancellations, cancelPollMs: 3_600_000 });
  return { store, engines, events, vault, cancellations, tasks };
}

let runs = 0;

/**
 * Writes a run of `sources` (paths in SRC, `repo:tag` or `repo@digest`), each mirrored to DST
 * under `mirror/`, with the options given; returns the run.
 */
export async function createRun(
  store: MemoryRunStore,
  sources: readonly string[],
  options: RunOptionsInput = {},
  statuses: readonly ImageRecord['status'][] = [],
): Promise<RunRecord> {
  const runId = `run-${++runs}`;
  const { destination, ...rest } = options;
  const run: RunRecord = inProgressRun({
    runId,
    totalImages: sources.length,
    startTime: '2026-01-01T00:00:00.000Z',
    options: { destination: { registry: DST, prefix: 'mirror', ...destination }, ...rest },
  });
  const registry = run.options.destination.registry;
  const images: ImageRecord[] = sources.map((source, index) => ({
    runId,
    index,
    source: source.includes('/') && source.split('/')[0]!.includes('.') ? source : `${SRC}/${source}`,
    destination: `${registry}/mirror/${source.replace(/^[^/]*\.[^/]*\//, '')}`,
    status: statuses[index] ?? 'pending',
  }));
  await store.createRun(run, images);
  return run;
}

/** An image-set document (oc-mirror's ImageSetConfiguration) with this `mirror` section. */
export const setDocument = (mirror: Record<string, unknown>) => ({
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror,
});

let setRuns = 0;

/**
 * Writes a run of an image set as the service does — its document kept, no images yet (the
 * Plan task expands it) — mirrored to DST under `mirror/`, recording the stored set `apps` v3
 * unless `options.imageSet` says otherwise.
 */
export async function createSetRun(
  store: MemoryRunStore,
  document: unknown,
  options: Partial<Omit<RunOptions, 'destination'>> = {},
): Promise<RunRecord> {
  const run = inProgressRun({
    runId: `set-run-${++setRuns}`,
    totalImages: 0,
    options: { destination: { registry: DST, prefix: 'mirror' }, imageSet: { name: 'apps', version: 3 }, ...options },
  });
  await store.putRunDocument(run.runId, document);
  await store.createRun(run, []);
  return run;
}
