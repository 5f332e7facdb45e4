import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { awsRegionPattern } from '../contract.js';
import { formatReference, mirrorDestination, repositoryPathPattern, tagPattern } from '../oci/reference.js';
import { countImages, type CredentialRef, type ImageRecord, type RunOptions, type RunRecord } from './model.js';
import { imageView, type RunView, toView } from './run-view.js';
import type { CredentialVault, WorkflowStarter } from './ports.js';
import {
  type CredentialInput,
  type DestinationInput,
  parseRunRequest,
  type RunRequest,
  runRequestSchema,
  validateInput,
} from './run-request.js';
import {
  BadRequestError,
  ConflictError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  RunNotFoundError,
  ScheduleBusyError,
} from './errors.js';
import { cancelledMessage, type RunCancellations } from './cancellation.js';
import { type EcrScope, checkEcrScope } from './ecr-scope.js';
import { idempotencyClaim } from './idempotency.js';
import type { ImageSetStore, SettingsStore, StoredImageSet } from './image-set-store.js';
import { imageSetNamePattern } from './image-set-name.js';
import { storableDestination } from './settings.js';
import { closeOpenImages, type IdempotencyClaim, type RunStore } from './store.js';

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

/** How a run is started: an Idempotency-Key and who sent it (keys are per caller), or a schedule. */
export interface StartOptions {
  readonly idempotencyKey?: string;
  /** The caller the key belongs to (IAM principal, ferry serve's token, an event's source). */
  readonly caller?: string;
  readonly schedule?: string;
}

/** The run use cases behind every entry point (API routes, schedules, cross-account events). */
export class RunService {
  readonly #deps: RunServiceDeps;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: RunServiceDeps) {
    this.#deps = deps;
    this.#newId = deps.newId ?? randomUUID;
    this.#now = deps.now ?? (() => new Date());
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
    const started = await this.#createAndStart(
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

  async getRun(runId: string): Promise<RunView> {
    const run = await this.#deps.store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    const images = await this.#deps.store.listImages(runId);
    // The images are read anyway, so the counts come from them (the run item's counters are
    // updated per image without a transaction and serve listings).
    return {
      ...toView(run),
      ...countImages(images),
      images: Object.fromEntries(images.map((i) => [i.destination, imageView(i)])),
    };
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
    // The stopped workflow never reaches Finish: every open image is final now — also one in
    // progress, whose Lambda may have died or which waits between retries that will never come.
    // A copy really under way that finishes first keeps its result (finishImage is conditional).
    await closeOpenImages(this.#deps.store, runId, cancelledMessage);
    return toView((await this.#deps.store.getRun(runId)) ?? run);
  }

  /** oc-mirror style mapping: `source=destination` per line. */
  async mapping(runId: string): Promise<string> {
    const run = await this.#deps.store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    const images = await this.#deps.store.listImages(runId);
    return images.map((i) => `${i.source}=${i.destination}\n`).join('');
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
    return this.#createAndStart(
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

  async #createAndStart(
    request: RunRequest,
    pairs: { source: string; destination: string }[],
    options: { idempotency?: IdempotencyClaim; schedule?: string; set?: RunSet },
  ): Promise<{ view: RunView; created: boolean }> {
    const duplicates = pairs.map((p) => p.destination).filter((d, i, all) => all.indexOf(d) !== i);
    if (duplicates.length > 0) throw new BadRequestError(`images: two images map to the destination ${duplicates[0]}`);
    if (this.#deps.ecrScope) checkEcrScope(this.#deps.ecrScope, pairs);
    // A retry is answered before anything is prepared for a new run (no run-scoped secret is made for it).
    const claim = options.idempotency;
    if (claim) {
      const earlier = await this.#conflictsAsHttp(() => this.#deps.store.findByIdempotencyKey(claim));
      if (earlier) return { view: toView(earlier), created: false };
    }
    const runId = this.#newId();
    const startTime = this.#now().toISOString();
    const options_: RunOptions = {
      destination: {
        registry: request.destination.registry,
        ...(request.destination.prefix ? { prefix: request.destination.prefix } : {}),
        insecure: request.destination.insecure,
        ...(request.destination.roleArn ? { roleArn: request.destination.roleArn } : {}),
        ...(request.destination.credentials
          ? {
              credentials: await this.#credential(
                runId,
                'destination',
                request.destination.registry,
                request.destination.credentials,
              ),
            }
          : {}),
      },
      sourceCredentials: Object.fromEntries(
        await Promise.all(
          Object.entries(request.sourceCredentials).map(
            async ([host, c]) => [host, await this.#credential(runId, `source-${host}`, host, c)] as const,
          ),
        ),
      ),
      platforms: request.platforms,
      referrers: request.referrers,
      override: request.override,
      failFast: request.failFast,
      dryRun: request.dryRun,
      ...(options.schedule ? { schedule: options.schedule } : {}),
      ...(options.set
        ? {
            imageSet: {
              ...(options.set.name === undefined ? {} : { name: options.set.name }),
              ...(options.set.version === undefined ? {} : { version: options.set.version }),
            },
          }
        : {}),
      ...(request.action === 'prune' ? { action: 'prune' as const } : {}),
    };
    const run: RunRecord = {
      runId,
      status: 'in-progress',
      startTime,
      endTime: null,
      totalImages: pairs.length,
      imagesProcessed: 0,
      imagesFailed: 0,
      bytesCopied: 0,
      options: options_,
    };
    const images: ImageRecord[] = pairs.map((pair, index) => ({ runId, index, ...pair, status: 'pending' }));
    if (options.schedule !== undefined) {
      const lock = await this.#deps.store.acquireScheduleLock(options.schedule, runId);
      if (!lock.acquired) throw new ScheduleBusyError(options.schedule, lock.heldBy);
    }
    // The document first: a run that exists always has it (the run item is written last).
    if (options.set) await this.#deps.store.putRunDocument(runId, options.set.document);
    const { run: stored, created } = await this.#conflictsAsHttp(() => this.#deps.store.createRun(run, images, claim));
    if (created) {
      const executionId = await this.#deps.workflow.start(runId);
      await this.#deps.store.setExecution(runId, executionId);
    }
    return { view: toView(stored), created };
  }

  /**
   * A key reused for another request is the caller's conflict: 409 naming the key. So is a key
   * whose first request is still writing its run (409 saying to retry, as Stripe answers).
   */
  async #conflictsAsHttp<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof IdempotencyConflictError || err instanceof IdempotencyInProgressError)
        throw new ConflictError(err.message, { cause: err });
      throw err;
    }
  }

  /** A caller's secret by reference, or an inline credential moved into the vault, bound to `registry`. */
  async #credential(runId: string, name: string, registry: string, input: CredentialInput): Promise<CredentialRef> {
    if ('secretArn' in input) return { secretArn: input.secretArn };
    return this.#deps.vault.store(runId, name, registry, {
      kind: 'basic',
      username: input.username,
      password: input.password,
    });
  }
}

/** The image set a run mirrors: its document, and the stored set's name and version (none for an inline document). */
interface RunSet {
  readonly name?: string;
  readonly version?: number;
  readonly document: unknown;
}

function isObject(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

/** The Idempotency-Key claim of a start, checked (400 naming the header when malformed). */
function claimOf(options: StartOptions, request: unknown): { idempotency?: IdempotencyClaim } {
  const key = options.idempotencyKey;
  if (key === undefined) return {};
  if (!/^[\w.:-]{1,128}$/.test(key))
    throw new BadRequestError('Idempotency-Key: 1 to 128 letters, digits, ".", ":", "_" or "-"');
  return { idempotency: idempotencyClaim(key, options.caller ?? 'anonymous', request) };
}
