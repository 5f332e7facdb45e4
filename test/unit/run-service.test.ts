import { describe, expect, it } from 'vitest';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import { createRunServices } from '../../functions/runs/app.js';
import type { RunEngines } from '../../functions/runs/engine.js';
import { IdempotencyConflictError } from '../../functions/runs/errors.js';
import type { ImageRecord, RunRecord } from '../../functions/runs/model.js';
import type { EventPublisher, WorkflowStarter } from '../../functions/runs/ports.js';
import { startScheduledRun } from '../../functions/runs/schedule.js';
import { RunService, type RunServiceDeps } from '../../functions/runs/service.js';
import type {
  IdempotencyClaim,
  ImageOutcome,
  ImageSlice,
  Page,
  RequestedImage,
  RunStore,
} from '../../functions/runs/store.js';
import { silentLogger } from '../../functions/oci/log.js';

/**
 * The run store the use cases need, in memory: runs, images, keys and schedule locks. The
 * workflow's methods (startImage…) are not used by RunService and fail loudly.
 */
class ServiceStore implements RunStore {
  readonly runs = new Map<string, RunRecord>();
  readonly images = new Map<string, ImageRecord[]>();
  readonly keys = new Map<string, { hash: string; runId: string }>();
  readonly locks = new Map<string, string>();

  createRun(run: RunRecord, images: readonly ImageRecord[], claim?: IdempotencyClaim) {
    if (claim) {
      const earlier = this.keys.get(`${claim.caller}/${claim.key}`);
      if (earlier && earlier.hash !== claim.requestHash) throw new IdempotencyConflictError(claim.key);
      if (earlier) return Promise.resolve({ run: this.runs.get(earlier.runId)!, created: false });
      this.keys.set(`${claim.caller}/${claim.key}`, { hash: claim.requestHash, runId: run.runId });
    }
    this.runs.set(run.runId, run);
    this.images.set(run.runId, [...images]);
    return Promise.resolve({ run, created: true });
  }
  async findByIdempotencyKey(claim: IdempotencyClaim) {
    const earlier = this.keys.get(`${claim.caller}/${claim.key}`);
    if (earlier && earlier.hash !== claim.requestHash) throw new IdempotencyConflictError(claim.key);
    return earlier && this.runs.get(earlier.runId);
  }
  readonly documents = new Map<string, unknown>();
  putRunDocument(runId: string, document: unknown) {
    this.documents.set(runId, document);
    return Promise.resolve();
  }
  getRunDocument = (runId: string) => Promise.resolve(this.documents.get(runId));
  readonly requests = new Map<string, RequestedImage[]>();
  putRunRequest(runId: string, images: readonly RequestedImage[]) {
    this.requests.set(runId, [...images]);
    return Promise.resolve();
  }
  getRunRequest = (runId: string) => Promise.resolve(this.requests.get(runId));
  pageImages = (): Promise<ImageSlice> => Promise.reject(new Error('pageImages is not used here'));
  addImages(runId: string, images: readonly ImageRecord[]) {
    this.images.set(runId, [...images]);
    return Promise.resolve();
  }
  getRun = (runId: string) => Promise.resolve(this.runs.get(runId));
  listRuns = (limit: number): Promise<Page<RunRecord>> =>
    Promise.resolve({ items: [...this.runs.values()].slice(0, limit) });
  listImages = (runId: string) => Promise.resolve([...(this.images.get(runId) ?? [])]);
  getImage = (runId: string, index: number) => Promise.resolve(this.images.get(runId)?.[index]);
  setExecution(runId: string, executionId: string) {
    this.runs.set(runId, { ...this.runs.get(runId)!, executionId });
    return Promise.resolve();
  }
  cancelRun(runId: string) {
    const run = this.runs.get(runId);
    if (run?.status !== 'in-progress') return Promise.resolve(false);
    this.runs.set(runId, { ...run, status: 'cancelled' });
    return Promise.resolve(true);
  }
  finishImage(runId: string, index: number, outcome: ImageOutcome) {
    const images = this.images.get(runId)!;
    images[index] = {
      ...images[index]!,
      status: outcome.status,
      ...(outcome.message ? { message: outcome.message } : {}),
    };
    return Promise.resolve(true);
  }
  acquireScheduleLock(schedule: string, runId: string) {
    const holder = this.locks.get(schedule);
    if (holder !== undefined && this.runs.get(holder)?.status === 'in-progress')
      return Promise.resolve({ acquired: false as const, heldBy: holder });
    this.locks.set(schedule, runId);
    return Promise.resolve({ acquired: true as const });
  }
  annotateImage = notUsed;
  reopenImage = notUsed;
  startImage = notUsed;
  countInvocation = notUsed;
  finishRun = notUsed;
}

function notUsed(): never {
  throw new Error('not used by RunService');
}

class RecordingWorkflow implements WorkflowStarter {
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  start(runId: string) {
    this.started.push(runId);
    return Promise.resolve(`exec-${runId}`);
  }
  stop(executionId: string) {
    this.stopped.push(executionId);
    return Promise.resolve();
  }
}

function setup(home?: RunServiceDeps['home']) {
  const store = new ServiceStore();
  const workflow = new RecordingWorkflow();
  let n = 0;
  const service = new RunService({
    store,
    vault: new MemoryVault(),
    workflow,
    newId: () => `run-${++n}`,
    now: () => new Date('2026-01-02T03:04:05.000Z'),
    ...(home ? { home } : {}),
  });
  return { store, workflow, service };
}

const request = {
  images: ['registry.example/team/app:1.0'],
  destination: { registry: 'mirror.example', prefix: 'copy' },
};

describe('RunService takes values, not bodies', () => {
  it('starts a run from a request value: pairs, options with defaults, the workflow started', async () => {
    const { store, workflow, service } = setup();
    const { view, created } = await service.startRun(request);
    expect(created).toBe(true);
    expect(view).toMatchObject({
      runId: 'run-1',
      status: 'in-progress',
      totalImages: 1,
      startTime: '2026-01-02T03:04:05.000Z',
    });
    // The API writes the run and its request; the workflow's Plan writes the image items.
    expect(store.requests.get('run-1')).toEqual([
      { source: 'registry.example/team/app:1.0', destination: 'mirror.example/copy/team/app:1.0' },
    ]);
    expect(store.images.get('run-1')).toEqual([]);
    expect(store.runs.get('run-1')!.options).toMatchObject({ override: true, failFast: false, dryRun: false });
    expect(store.runs.get('run-1')!.executionId).toBe('exec-run-1');
    expect(workflow.started).toEqual(['run-1']);
  });

  it('refuses a JSON string: the value is validated, never parsed again', async () => {
    const { store, service } = setup();
    await expect(service.startRun(JSON.stringify(request))).rejects.toMatchObject({
      name: 'BadRequestError',
      code: 'BAD_REQUEST',
    });
    expect(store.runs.size).toBe(0);
  });

  it('names the field of an invalid value (400) and writes nothing', async () => {
    const { store, service } = setup();
    const err: unknown = await service
      .startRun({ ...request, destination: { registry: 'mirror.example', prefix: 'Upper/Case' } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BadRequestError', code: 'BAD_REQUEST', retryable: false });
    expect((err as Error).message.startsWith('destination.prefix: ')).toBe(true);
    expect(store.runs.size).toBe(0);
  });

  it('answers a repeated Idempotency-Key with the first run, and a reused one with a ConflictError', async () => {
    const { store, workflow, service } = setup();
    const key = { idempotencyKey: 'k-1', caller: 'alice' };
    const first = await service.startRun(request, key);
    // The same request spelled in another key order is the same request.
    const again = await service.startRun({ destination: request.destination, images: request.images }, key);
    expect([first.created, again.created, again.view.runId]).toEqual([true, false, first.view.runId]);
    await expect(service.startRun({ ...request, failFast: true }, key)).rejects.toMatchObject({
      name: 'ConflictError',
      code: 'CONFLICT',
      cause: { name: 'IdempotencyConflictError', key: 'k-1' },
    });
    expect([store.runs.size, workflow.started.length]).toEqual([1, 1]);
  });

  it('refuses a malformed Idempotency-Key before anything is written', async () => {
    const { store, service } = setup();
    await expect(service.startRun(request, { idempotencyKey: 'no spaces', caller: 'a' })).rejects.toMatchObject({
      name: 'BadRequestError',
    });
    expect(store.runs.size).toBe(0);
  });

  it('syncImages builds the run from the value: home registry tags to the region and namespace given', async () => {
    const { store, service } = setup({
      registry: '111122223333.dkr.ecr.eu-west-1.amazonaws.com',
      registryForRegion: (r) => `111122223333.dkr.ecr.${r}.amazonaws.com`,
    });
    await service.syncImages('team', 'app', {
      imageTag: ['1.0', '2.0'],
      remoteNamespace: 'replica',
      remoteRegionId: 'eu-central-1',
    });
    expect(store.requests.get('run-1')!.map((i) => `${i.source}=${i.destination}`)).toEqual([
      '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.0=111122223333.dkr.ecr.eu-central-1.amazonaws.com/replica/app:1.0',
      '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:2.0=111122223333.dkr.ecr.eu-central-1.amazonaws.com/replica/app:2.0',
    ]);
    // sync_images keeps SWR's default: no override.
    expect(store.runs.get('run-1')!.options.override).toBe(false);
  });

  it.each([
    [{ imageTag: ['-bad'], remoteNamespace: 'replica', remoteRegionId: 'eu-central-1' }, 'imageTag[0]: '],
    [{ imageTag: ['1.0'], remoteNamespace: 'Replica', remoteRegionId: 'eu-central-1' }, 'remoteNamespace: '],
    [{ imageTag: ['1.0'], remoteNamespace: 'replica', remoteRegionId: 'europe' }, 'remoteRegionId: '],
  ])('syncImages refuses %j naming the field', async (input, field) => {
    const { store, service } = setup({ registry: 'home.example', registryForRegion: () => 'there.example' });
    const err: unknown = await service.syncImages('team', 'app', input).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BadRequestError' });
    expect((err as Error).message.startsWith(field)).toBe(true);
    expect(store.runs.size).toBe(0);
  });

  it('syncImages without a home registry is a BadRequestError', async () => {
    const { service } = setup();
    await expect(
      service.syncImages('team', 'app', { imageTag: ['1.0'], remoteNamespace: 'r', remoteRegionId: 'eu-central-1' }),
    ).rejects.toMatchObject({ name: 'BadRequestError', code: 'BAD_REQUEST' });
  });

  it('a schedule starts its run from the value, and skips while its previous run is in progress', async () => {
    const { store, workflow, service } = setup();
    const first = await startScheduledRun(service, 'nightly', request);
    const second = await startScheduledRun(service, 'nightly', request);
    expect(first).toEqual({ started: true, runId: 'run-1' });
    expect(second).toEqual({ started: false, skippedBecause: 'run run-1 of schedule nightly is still in progress' });
    expect(store.runs.get('run-1')!.options.schedule).toBe('nightly');
    expect(workflow.started).toEqual(['run-1']);
  });

  it('an unknown run is a RunNotFoundError (not the registry’s NotFoundError)', async () => {
    const { service } = setup();
    for (const call of [service.getRun('nope'), service.cancelRun('nope'), service.mapping('nope')])
      await expect(call).rejects.toMatchObject({ name: 'RunNotFoundError', code: 'RUN_NOT_FOUND', runId: 'nope' });
  });

  it('cancelling a run that is not in progress is a ConflictError; cancelling one stops its workflow', async () => {
    const { store, workflow, service } = setup();
    await service.startRun(request);
    const cancelled = await service.cancelRun('run-1');
    expect(cancelled.status).toBe('cancelled');
    expect(workflow.stopped).toEqual(['exec-run-1']);
    expect(store.images.get('run-1')!.map((i) => i.status)).toEqual(['failed']);
    await expect(service.cancelRun('run-1')).rejects.toMatchObject({ name: 'ConflictError', code: 'CONFLICT' });
  });
});

describe('createRunServices', () => {
  it('builds the service and the tasks on the same ports; a workflow may be built from the tasks', async () => {
    const store = new ServiceStore();
    const engines: RunEngines = { forRun: notUsed };
    const events: EventPublisher = { runFinished: () => Promise.resolve() };
    const workflow = new RecordingWorkflow();
    let handed: unknown;
    const services = createRunServices({
      store,
      vault: new MemoryVault(),
      events,
      engines,
      logger: silentLogger,
      workflow: (tasks) => ((handed = tasks), workflow),
    });
    expect(handed).toBe(services.tasks);
    expect(services.workflow).toBe(workflow);
    const { view } = await services.service.startRun(request);
    expect(workflow.started).toEqual([view.runId]);
  });
});
