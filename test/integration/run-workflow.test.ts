import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxCopyInvocations } from '../../functions/contract.js';
import { LocalWorkflow } from '../../functions/local/local-workflow.js';
import { type WorkflowTaskName, WorkflowTasks } from '../../functions/handlers/workflow/workflow-tasks.js';
import { RegistryError } from '../../functions/oci/errors.js';
import type { Logger } from '../../functions/oci/log.js';
import { imageView } from '../../functions/runs/run-view.js';
import { addImage, createRun, type Harness, harness, SRC } from '../unit/tasks/harness.js';

/**
 * The run workflow at its limits, on the definition the stack deploys (dist/workflow.asl.json,
 * written by `npm run build`) run by `ferry serve`'s interpreter, with the real task use cases
 * over an in-memory store and registries. A task can be replaced by a stub that stands in for
 * what only AWS does (a Lambda killed at its deadline, throttled invocations) or for the engine
 * work still to come (a copy that answers `continue`).
 */

const definitionFile = resolve(import.meta.dirname, '..', '..', 'dist', 'workflow.asl.json');

type Handler = (input: unknown) => Promise<unknown>;
type Stub = (input: unknown, real: Handler) => Promise<unknown>;

interface WorkflowRun {
  /** The inputs each task was invoked with, in order. */
  readonly calls: Record<string, unknown[]>;
  /** What the interpreter logged (an execution that ended failed). */
  readonly warnings: string[];
}

/** Runs the workflow of `runId` to its end, one image at a time, with test-speed retries. */
async function runWorkflow(
  h: Harness,
  runId: string,
  options: {
    stubs?: Partial<Record<WorkflowTaskName, Stub>>;
    distributedThreshold?: number;
    taskTimeoutSeconds?: number;
  } = {},
): Promise<WorkflowRun> {
  const calls: Record<string, unknown[]> = {};
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
  };
  const real = new WorkflowTasks(h.tasks, { distributedThreshold: options.distributedThreshold ?? 1000 }).handlers();
  const tasks = Object.fromEntries(
    Object.entries(real).map(([name, handler]): [string, Handler] => [
      name,
      (input) => {
        (calls[name] ??= []).push(input);
        const stub = options.stubs?.[name as WorkflowTaskName];
        return stub ? stub(input, handler) : handler(input);
      },
    ]),
  );
  const workflow = new LocalWorkflow({
    definitionFile,
    tasks,
    logger,
    retryIntervalMs: 0,
    mapConcurrency: 1,
    ...(options.taskTimeoutSeconds === undefined ? {} : { taskTimeoutSeconds: options.taskTimeoutSeconds }),
  });
  await workflow.start(runId);
  await workflow.drain();
  return { calls, warnings };
}

const item = (input: unknown) => input as { runId: string; index: number; finishError?: unknown };

/** An error as the Lambda service reports it to Step Functions (the interpreter takes `name` as the Error). */
const lambdaError = (name: string, message: string) => Object.assign(new Error(message), { name });

/** What a copy invocation does before the Lambda is killed or parks its work: start the image, count the invocation. */
async function begin(h: Harness, input: unknown): Promise<number> {
  const { runId, index } = item(input);
  await h.store.startImage(runId, index);
  return h.store.countInvocation(runId, index);
}

/** A run whose image `library/bad` fails to copy (the source refuses its blobs: not retryable); the others copy. */
async function runWithBadImage(h: Harness, sources: string[], failFast: boolean) {
  for (const source of sources) addImage(h.engines.repo(SRC, source.split(':')[0]!), 'v1', [source]);
  h.engines.repo(SRC, 'library/bad').faults.before = (call) => {
    if (call.op === 'openBlob')
      throw new RegistryError('src.test/library/bad: denied', {
        registry: SRC,
        repository: 'library/bad',
        status: 403,
      });
  };
  return createRun(h.store, sources, { failFast });
}

describe('the run workflow on the local interpreter (dist/workflow.asl.json)', () => {
  it('Finish that keeps failing still finalises the run: failed naming the cause, its schedule lock free, the execution failed', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1'], { schedule: 'nightly' });
    expect(await h.store.acquireScheduleLock('nightly', run.runId)).toEqual({ acquired: true });
    const exploded = lambdaError('CatalogError', 'catalog rebuild exploded');
    const { calls, warnings } = await runWorkflow(h, run.runId, {
      stubs: { finish: (input, real) => (item(input).finishError ? real(input) : Promise.reject(exploded)) },
    });
    // Finish, its two retries, then FinishFailed once.
    expect(calls.finish!.map((i) => item(i).finishError !== undefined)).toEqual([false, false, false, true]);
    expect(await h.store.getRun(run.runId)).toMatchObject({
      status: 'failed',
      message: 'the run could not finish: CatalogError: catalog rebuild exploded',
      imagesProcessed: 1,
      imagesFailed: 0,
    });
    expect(h.store.image(run.runId, 0).status).toBe('completed');
    expect(h.events.published).toEqual([
      expect.objectContaining({ runId: run.runId, status: 'failed', schedule: 'nightly' }),
    ]);
    // The schedule's next run may start: the lock passes on from a run no longer in progress.
    expect(await h.store.acquireScheduleLock('nightly', 'next-run')).toEqual({ acquired: true });
    expect(warnings.join('\n')).toContain('Finish failed: the run was marked failed');
  });

  it('Finish that fails before any image ran closes them, naming the cause', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1', 'library/a:v1']);
    await runWorkflow(h, run.runId, {
      stubs: {
        copyImage: () => Promise.reject(lambdaError('Lambda.ServiceException', 'down')),
        recordFailure: () => Promise.reject(lambdaError('Lambda.ServiceException', 'down')),
        finish: (input, real) =>
          item(input).finishError ? real(input) : Promise.reject(lambdaError('Error', 'store unavailable')),
      },
    });
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'failed', imagesFailed: 2 });
    expect(h.store.image(run.runId, 1)).toMatchObject({
      status: 'failed',
      message: 'not copied: the run could not finish: Error: store unavailable',
    });
  });

  describe.each([
    ['inline', 1000],
    ['distributed', 0],
  ])('failFast stops the %s Map at the first failure', (_kind, distributedThreshold) => {
    it('no copy starts after it, the rest are not copied, Finish runs, the run fails', async () => {
      const h = harness();
      const run = await runWithBadImage(h, ['library/bad:v1', 'library/a:v1', 'library/b:v1', 'library/c:v1'], true);
      const { calls } = await runWorkflow(h, run.runId, { distributedThreshold });
      expect(calls.copyImage!.map((i) => item(i).index)).toEqual([0]);
      expect(h.store.calls.filter((c) => c.op === 'startImage').map((c) => c.index)).toEqual([0]);
      expect(calls.finish).toHaveLength(1);
      expect(h.store.image(run.runId, 0).message).toContain('denied');
      for (const index of [1, 2, 3])
        expect(h.store.image(run.runId, index)).toMatchObject({
          status: 'failed',
          message: 'not copied: the run stopped at the first failure (failFast)',
        });
      expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'failed', imagesProcessed: 4 });
    });
  });

  it.each([
    ['inline', 1000],
    ['distributed', 0],
  ])('without failFast the %s Map copies every image past a failure', async (_kind, distributedThreshold) => {
    const h = harness();
    const run = await runWithBadImage(h, ['library/bad:v1', 'library/a:v1', 'library/b:v1'], false);
    const { calls } = await runWorkflow(h, run.runId, { distributedThreshold });
    expect(calls.copyImage!.map((i) => item(i).index)).toEqual([0, 1, 2]);
    expect([0, 1, 2].map((i) => h.store.image(run.runId, i).status)).toEqual(['failed', 'completed', 'completed']);
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'failed', imagesFailed: 1 });
  });

  it('a distributed child that fails is tolerated without failFast: the others still copy', async () => {
    const h = harness();
    const run = await runWithBadImage(h, ['library/bad:v1', 'library/a:v1'], false);
    // RecordFailure cannot write: image 0's child fails as a whole.
    const down = lambdaError('Lambda.ServiceException', 'down');
    const { calls } = await runWorkflow(h, run.runId, {
      distributedThreshold: 0,
      stubs: {
        copyImage: (input, real) =>
          item(input).index === 0 ? Promise.reject(lambdaError('Error', 'boom')) : real(input),
        recordFailure: () => Promise.reject(down),
      },
    });
    expect(calls.copyImage!.map((i) => item(i).index)).toEqual([0, 1]);
    expect(h.store.image(run.runId, 1).status).toBe('completed');
  });

  describe('the Lambda service’s own failures are named', () => {
    it.each([
      [
        'Sandbox.Timedout',
        'Task timed out after 900.00 seconds',
        'copy-image timed out after 2 invocations (Lambda 15-minute limit)',
        2,
      ],
      [
        'Lambda.Unknown',
        'Task timed out after 900.00 seconds',
        'copy-image timed out after 1 invocation (Lambda 15-minute limit)',
        1,
      ],
      [
        'Runtime.OutOfMemory',
        'Runtime exited with error: signal: killed',
        'copy-image ran out of memory (1024 MB) after 1 invocation',
        1,
      ],
      [
        'Lambda.Unknown',
        'Runtime exited with error: signal: killed',
        'copy-image ran out of memory (1024 MB) after 1 invocation',
        1,
      ],
    ])('%s (%s) → "%s"', async (name, cause, message, invocations) => {
      const h = harness();
      addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
      const run = await createRun(h.store, ['library/a:v1']);
      const { calls } = await runWorkflow(h, run.runId, {
        stubs: {
          copyImage: async (input) => {
            await begin(h, input);
            throw lambdaError(name, cause);
          },
        },
      });
      expect(calls.copyImage).toHaveLength(invocations);
      const image = h.store.image(run.runId, 0);
      expect(image).toMatchObject({ status: 'failed', message, invocations });
      expect(imageView(image)).toMatchObject({ status: 'failed', message, invocations });
      expect(message).not.toContain('gave up after retries');
    });

    it('a local invocation past its timeout fails as States.Timeout (a Lambda at its deadline): retried once, then named', async () => {
      const h = harness();
      addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
      const run = await createRun(h.store, ['library/a:v1']);
      // The copies hang until the run has finished (then drain can wait for them, as for any task still running).
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const { calls } = await runWorkflow(h, run.runId, {
        taskTimeoutSeconds: 1,
        stubs: {
          copyImage: async (input) => {
            await begin(h, input);
            await held;
            return { status: 'completed' };
          },
          finish: async (input, real) => {
            const out = await real(input);
            release();
            return out;
          },
        },
      });
      expect(calls.copyImage).toHaveLength(2);
      expect(h.store.image(run.runId, 0)).toMatchObject({
        status: 'failed',
        message: 'copy-image timed out after 2 invocations (Lambda 15-minute limit)',
        invocations: 2,
      });
    });

    it('throttling is retried with backoff, and the image records the one invocation that ran', async () => {
      const h = harness();
      addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
      const run = await createRun(h.store, ['library/a:v1']);
      let throttled = 5;
      const { calls } = await runWorkflow(h, run.runId, {
        stubs: {
          copyImage: (input, real) =>
            throttled-- > 0
              ? Promise.reject(lambdaError('Lambda.TooManyRequestsException', 'Rate Exceeded.'))
              : real(input),
        },
      });
      expect(calls.copyImage).toHaveLength(6);
      expect(h.store.image(run.runId, 0)).toMatchObject({ status: 'completed', invocations: 1 });
    });
  });

  describe('CopyImage answering "continue" (a huge layer parked before the deadline)', () => {
    it('is invoked again until it completes', async () => {
      const h = harness();
      addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
      const run = await createRun(h.store, ['library/a:v1']);
      let parked = 2;
      const { calls } = await runWorkflow(h, run.runId, {
        stubs: {
          copyImage: async (input, real) =>
            parked-- > 0 ? { status: 'continue', invocations: await begin(h, input) } : real(input),
        },
      });
      expect(calls.copyImage).toHaveLength(3);
      expect(h.store.image(run.runId, 0)).toMatchObject({ status: 'completed', invocations: 3 });
      expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'completed' });
    });

    it('is bounded: after maxCopyInvocations the image is recorded failed saying so', async () => {
      const h = harness();
      addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
      const run = await createRun(h.store, ['library/a:v1']);
      const { calls } = await runWorkflow(h, run.runId, {
        stubs: { copyImage: async (input) => ({ status: 'continue', invocations: await begin(h, input) }) },
      });
      expect(calls.copyImage).toHaveLength(maxCopyInvocations);
      expect(h.store.image(run.runId, 0)).toMatchObject({
        status: 'failed',
        message: `copy-image did not finish within ${maxCopyInvocations} invocations (Lambda 15-minute limit each)`,
        invocations: maxCopyInvocations,
      });
      expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'failed' });
    });
  });
});
