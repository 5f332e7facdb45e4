import { randomUUID } from 'node:crypto';
import { type CredentialRef, type RunOptions, type RunRecord } from './model.js';
import { type RunView, toView } from './run-view.js';
import type { CredentialVault, WorkflowStarter } from './ports.js';
import type { CredentialInput, RunRequest } from './run-request.js';
import {
  BadRequestError,
  ConflictError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  ScheduleBusyError,
} from './errors.js';
import { type EcrScope, checkEcrScope } from './ecr-scope.js';
import { idempotencyClaim } from './idempotency.js';
import type { IdempotencyClaim, RequestedImage, RunStore } from './store.js';

/** What starting a run needs: where it is stored, where inline secrets go, the workflow it runs on. */
export interface RunStartDeps {
  readonly store: RunStore;
  readonly vault: CredentialVault;
  readonly workflow: WorkflowStarter;
  readonly ecrScope?: EcrScope;
  readonly newId?: () => string;
  readonly now?: () => Date;
}

/** The image set a run mirrors: its document, and the stored set's name and version (none for an inline document). */
export interface RunSet {
  readonly name?: string;
  readonly version?: number;
  readonly document: unknown;
}

/** How a run is started: an Idempotency-Key and who sent it (keys are per caller), or a schedule. */
export interface StartOptions {
  readonly idempotencyKey?: string;
  /** The caller the key belongs to (IAM principal, ferry serve's token, an event's source). */
  readonly caller?: string;
  readonly schedule?: string;
}

/**
 * Stores a validated run and starts its workflow. The run's images are stored as its request
 * (a few items however many there are): the workflow's Plan task writes one item per image, so a
 * start stays far inside the API's 30 seconds. A retried Idempotency-Key returns the earlier run.
 */
export async function createAndStartRun(
  deps: RunStartDeps,
  request: RunRequest,
  pairs: readonly RequestedImage[],
  options: { idempotency?: IdempotencyClaim; schedule?: string; set?: RunSet },
): Promise<{ view: RunView; created: boolean }> {
  const duplicate = firstDuplicate(pairs.map((p) => p.destination));
  if (duplicate !== undefined) throw new BadRequestError(`images: two images map to the destination ${duplicate}`);
  if (deps.ecrScope) checkEcrScope(deps.ecrScope, pairs);
  // A retry is answered before anything is prepared for a new run (no run-scoped secret is made for it).
  const claim = options.idempotency;
  if (claim) {
    const earlier = await conflictsAsHttp(() => deps.store.findByIdempotencyKey(claim));
    if (earlier) return { view: toView(earlier), created: false };
  }
  const runId = (deps.newId ?? randomUUID)();
  const run: RunRecord = {
    runId,
    status: 'in-progress',
    startTime: (deps.now?.() ?? new Date()).toISOString(),
    endTime: null,
    totalImages: pairs.length,
    imagesProcessed: 0,
    imagesFailed: 0,
    bytesCopied: 0,
    options: await runOptions(deps.vault, runId, request, options),
  };
  if (options.schedule !== undefined) {
    const lock = await deps.store.acquireScheduleLock(options.schedule, runId);
    if (!lock.acquired) throw new ScheduleBusyError(options.schedule, lock.heldBy);
  }
  // The document and the request first: a run that exists always has them (the run item is written last).
  if (options.set) await deps.store.putRunDocument(runId, options.set.document);
  if (pairs.length > 0) await deps.store.putRunRequest(runId, pairs);
  const { run: stored, created } = await conflictsAsHttp(() => deps.store.createRun(run, [], claim));
  if (created) {
    const executionId = await deps.workflow.start(runId);
    await deps.store.setExecution(runId, executionId);
  }
  return { view: toView(stored), created };
}

/** The first value seen twice (one pass: a 10,000-image request is checked in milliseconds, not seconds). */
function firstDuplicate(values: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) return value;
    seen.add(value);
  }
  return undefined;
}

/** The run's options as stored: the request without its images, inline credentials moved to the vault. */
async function runOptions(
  vault: CredentialVault,
  runId: string,
  request: RunRequest,
  options: { schedule?: string; set?: RunSet },
): Promise<RunOptions> {
  const { destination } = request;
  return {
    destination: {
      registry: destination.registry,
      ...(destination.prefix ? { prefix: destination.prefix } : {}),
      insecure: destination.insecure,
      ...(destination.roleArn ? { roleArn: destination.roleArn } : {}),
      ...(destination.credentials
        ? { credentials: await vaulted(vault, runId, 'destination', destination.registry, destination.credentials) }
        : {}),
    },
    sourceCredentials: Object.fromEntries(
      await Promise.all(
        Object.entries(request.sourceCredentials).map(
          async ([host, c]) => [host, await vaulted(vault, runId, `source-${host}`, host, c)] as const,
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
}

/**
 * A key reused for another request is the caller's conflict: 409 naming the key. So is a key
 * whose first request is still writing its run (409 saying to retry, as Stripe answers).
 */
async function conflictsAsHttp<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof IdempotencyConflictError || err instanceof IdempotencyInProgressError)
      throw new ConflictError(err.message, { cause: err });
    throw err;
  }
}

/** A caller's secret by reference, or an inline credential moved into the vault, bound to `registry`. */
async function vaulted(
  vault: CredentialVault,
  runId: string,
  name: string,
  registry: string,
  input: CredentialInput,
): Promise<CredentialRef> {
  if ('secretArn' in input) return { secretArn: input.secretArn };
  return vault.store(runId, name, registry, { kind: 'basic', username: input.username, password: input.password });
}

/** The Idempotency-Key claim of a start, checked (400 naming the header when malformed). */
export function claimOf(options: StartOptions, request: unknown): { idempotency?: IdempotencyClaim } {
  const key = options.idempotencyKey;
  if (key === undefined) return {};
  if (!/^[\w.:-]{1,128}$/.test(key))
    throw new BadRequestError('Idempotency-Key: 1 to 128 letters, digits, ".", ":", "_" or "-"');
  return { idempotency: idempotencyClaim(key, options.caller ?? 'anonymous', request) };
}
