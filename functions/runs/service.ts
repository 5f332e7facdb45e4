import { z } from 'zod';
import { awsRegionPattern } from '../contract.js';
import { formatReference, mirrorDestination, repositoryPathPattern, tagPattern } from '../oci/reference.js';
import { type RunView, toView } from './run-view.js';
import type { CredentialVault, WorkflowStarter } from './ports.js';
import { type DestinationInput, parseRunRequest, runRequestSchema, validateInput } from './run-request.js';
import { BadRequestError, ConflictError, RunNotFoundError } from './errors.js';
import { cancelledMessage, type RunCancellations } from './cancellation.js';
import type { EcrScope } from './ecr-scope.js';
import type { ImageSetStore, SettingsStore, StoredImageSet } from './image-set-store.js';
import { imageSetNamePattern } from './image-set-name.js';
import { storableDestination } from './settings.js';
import { writeRequestedImages } from './plan-images.js';
import { closeOpenImages, type RunStore } from './store.js';
import { claimOf, createAndStartRun, type StartOptions } from './run-start.js';
import { type ImagesPage, type QueryInput, RunReads, type TextPage } from './run-reads.js';

export interface RunServiceDeps {
  readonly store: RunStore;
  readonly vault: CredentialVault;
  readonly workflow: WorkflowStarter;
  /** The registry `sync_images` replicates from, and how a region's registry is named. */
  readonly home?: { registry: string; registryForRegion(region: string): string };
  /** Copies under way in this process (`ferry serve`): cancel aborts them at once. */
  readonly cancellations?: RunCancellations;
  readonly newId?: () => string;
  readonly now?: () => Date;
  /** The ECR repositories runs may use (the deployed service); absent: no limit. */
  readonly ecrScope?: EcrScope;
  /** The default destination (runs without one, `saveAsDefault`); absent: every run names its destination. */
  readonly settings?: SettingsStore;
  /** Stored image sets (runs by `imageSet`); absent: a run naming one is a 400. */
  readonly imageSets?: Pick<ImageSetStore, 'getImageSet'>;
}

/** The 400 of a run without a destination when no default is set (issue 9, pinned wording). */
export const noDefaultDestinationMessage =
  'destination: no destination given and no default set (PUT /v1/settings or saveAsDefault)';

const syncImagesSchema = z.strictObject({
  imageTag: z.array(z.string().regex(tagPattern, 'must be a tag')).min(1, 'needs at least one tag'),
  override: z.boolean().default(false),
  remoteNamespace: z.string().regex(repositoryPathPattern, 'must be a lowercase namespace'),
  remoteRegionId: z.string().regex(awsRegionPattern, 'must be an AWS region such as eu-west-1'),
});

export type { StartOptions } from './run-start.js';

/** The run use cases behind every entry point (API routes, schedules, cross-account events). */
export class RunService {
  readonly #deps: RunServiceDeps;
  readonly #reads: RunReads;

  constructor(deps: RunServiceDeps) {
    this.#deps = deps;
    this.#reads = new RunReads(deps.store);
  }

  /**
   * Validates, stores and starts a run. `input` is a run request as a value (an API body once
   * parsed, a schedule's run, an event's detail); invalid input throws BadRequestError before
   * anything is written.
   */
  async startRun(input: unknown, options: StartOptions = {}): Promise<{ view: RunView; created: boolean }> {
    const stored = await this.#storedSet(input);
    const { request, subject } = parseRunRequest(await this.#withDestination(input, stored?.destination));
    const settings = this.#deps.settings;
    if (request.saveAsDefault) {
      // Refused before anything is written: a default outlives the run, so no inline secret may be in it.
      if (!settings) throw new BadRequestError('saveAsDefault: this service keeps no settings');
      storableDestination(request.destination, 'destination');
    }
    const to = request.destination.prefix
      ? `${request.destination.registry}/${request.destination.prefix}`
      : request.destination.registry;
    const started = await createAndStartRun(
      this.#deps,
      request,
      // A set's images are known once its tags are listed: the workflow's Plan task expands it.
      subject.kind === 'images'
        ? subject.sources.map((source) => ({
            source: formatReference(source),
            destination: formatReference(mirrorDestination(source, to)),
          }))
        : [],
      {
        ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
        ...claimOf(options, { route: 'runs', request }),
        ...(subject.kind === 'images'
          ? {}
          : stored
            ? { set: { name: stored.name, version: stored.version, document: stored.config } }
            : { set: { document: subject.kind === 'inline-set' ? subject.config : undefined } }),
      },
    );
    if (request.saveAsDefault && started.created)
      await settings?.putSettings({ defaultDestination: request.destination });
    return started;
  }

  /** The stored set a request names (`imageSet`), read once; a 400 naming the field when there is none. */
  async #storedSet(input: unknown): Promise<StoredImageSet | undefined> {
    if (!isObject(input) || typeof input.imageSet !== 'string' || !imageSetNamePattern.test(input.imageSet))
      return undefined; // not a stored set, or a name the request's validation refuses
    const set = await this.#deps.imageSets?.getImageSet(input.imageSet);
    if (!set) throw new BadRequestError(`imageSet: there is no image set named ${input.imageSet}`);
    return set;
  }

  /**
   * A run request without `destination` gets its set's (`setDestination`), else the default one,
   * or is refused when none is set.
   */
  async #withDestination(input: unknown, setDestination: DestinationInput | undefined): Promise<unknown> {
    if (!isObject(input)) return input;
    if ('destination' in input && input.destination !== undefined) return input;
    if (setDestination !== undefined) return { ...input, destination: setDestination };
    const defaultDestination = (await this.#deps.settings?.getSettings())?.defaultDestination ?? null;
    if (defaultDestination === null) {
      // The rest of the request is checked first, so its own errors name their fields.
      validateInput(input, runRequestSchema.omit({ destination: true }));
      throw new BadRequestError(noDefaultDestinationMessage);
    }
    return { ...input, destination: defaultDestination };
  }

  /** `GET /v1/runs/{id}`: see RunReads.getRun. */
  getRun(runId: string): ReturnType<RunReads['getRun']> {
    return this.#reads.getRun(runId);
  }

  /** `GET /v1/runs/{id}/images`: see RunReads.imagesPage. */
  imagesPage(runId: string, query: QueryInput): Promise<ImagesPage> {
    return this.#reads.imagesPage(runId, query);
  }

  async listRuns(limit: number, nextToken?: string): Promise<{ runs: RunView[]; nextToken?: string }> {
    const page = await this.#deps.store.listRuns(limit, nextToken);
    return { runs: page.items.map(toView), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  async cancelRun(runId: string): Promise<RunView> {
    const run = await this.#deps.store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (!(await this.#deps.store.cancelRun(runId)))
      throw new ConflictError(`run ${runId} is ${run.status}; only runs in progress can be cancelled`);
    // Copies under way here stop now (a Lambda's copy notices by polling); the workflow starts no more.
    this.#deps.cancellations?.cancel(runId);
    if (run.executionId) await this.#deps.workflow.stop(run.executionId).catch(() => undefined);
    // A run cancelled before its Plan wrote its images gets them now, to close them as cancelled.
    await writeRequestedImages(this.#deps.store, run);
    // The stopped workflow never reaches Finish: every open image is final now — also one in
    // progress, whose Lambda may have died or which waits between retries that will never come.
    // A copy really under way that finishes first keeps its result (finishImage is conditional).
    await closeOpenImages(this.#deps.store, runId, cancelledMessage);
    return toView((await this.#deps.store.getRun(runId)) ?? run);
  }

  /** oc-mirror style mapping, `source=destination` per line, a page at a time: see RunReads.mapping. */
  mapping(runId: string, query: QueryInput = {}): Promise<TextPage> {
    return this.#reads.mapping(runId, query);
  }

  /**
   * Huawei SWR's `sync_images`: replicate tags of a repository of the home registry to another
   * region and namespace. `input` is the request body as a value.
   */
  async syncImages(
    namespace: string,
    repository: string,
    input: unknown,
    options: StartOptions = {},
  ): Promise<{ view: RunView; created: boolean }> {
    const sync = validateInput(input, syncImagesSchema);
    const home = this.#deps.home;
    if (!home) throw new BadRequestError('sync_images needs a home registry; this deployment has none configured');
    const path = `${namespace}/${repository}`;
    const { request, subject } = parseRunRequest({
      images: sync.imageTag.map((tag) => `${home.registry}/${path}:${tag}`),
      destination: { registry: home.registryForRegion(sync.remoteRegionId) },
      override: sync.override,
    });
    const destinationRegistry = request.destination.registry;
    const sources = subject.kind === 'images' ? subject.sources : [];
    return createAndStartRun(
      this.#deps,
      request,
      sources.map((source) => ({
        source: formatReference(source),
        destination: formatReference({
          ...source,
          registry: destinationRegistry,
          repository: `${sync.remoteNamespace}/${repository}`,
        }),
      })),
      claimOf(options, { route: 'sync_images', namespace, repository, input: sync }),
    );
  }
}

function isObject(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}
