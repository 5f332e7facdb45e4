import { describe, expect, it } from 'vitest';
import {
  causeMessage,
  distributedThreshold,
  WorkflowTasks,
} from '../../../functions/handlers/workflow/workflow-tasks.js';
import { addImage, createRun, harness, SRC } from './harness.js';

/** The Step Functions side: task inputs, the Plan output, the Catch envelope. */
describe('WorkflowTasks (the state machine adapter)', () => {
  it('Plan returns what the Choice and Map states read', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1', 'library/gone:v1'], { failFast: true });
    expect(await new WorkflowTasks(h.tasks).plan({ runId: run.runId, extra: 'ignored' })).toEqual({
      runId: run.runId,
      proceed: true,
      indexes: [0],
      failFast: true,
      distributed: false,
      toleratedFailurePercentage: 0,
    });
  });

  it('Plan tolerates every failed child of a Distributed Map unless the run is failFast', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const tasks = new WorkflowTasks(h.tasks);
    for (const [failFast, tolerated] of [
      [true, 0],
      [false, 100],
    ] as const) {
      const run = await createRun(h.store, ['library/a:v1'], { failFast });
      expect(await tasks.plan({ runId: run.runId })).toMatchObject({ toleratedFailurePercentage: tolerated });
    }
  });

  it('takes the Distributed Map threshold as an option (tests run small distributed runs)', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1', 'library/a:v1']);
    expect(await new WorkflowTasks(h.tasks, { distributedThreshold: 1 }).plan({ runId: run.runId })).toMatchObject({
      distributed: true,
    });
  });

  it.each([
    [distributedThreshold, false],
    [distributedThreshold + 1, true],
  ])('Plan picks the Distributed Map above the threshold: %i images → %s', async (count, distributed) => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(
      h.store,
      Array.from({ length: count }, () => 'library/a:v1'),
    );
    const out = await new WorkflowTasks(h.tasks).plan({ runId: run.runId });
    expect(out.indexes).toHaveLength(count);
    expect(out.distributed).toBe(distributed);
  });

  it('Plan of a run that will not proceed takes neither Map', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/gone:v1']);
    expect(await new WorkflowTasks(h.tasks).plan({ runId: run.runId })).toEqual({
      runId: run.runId,
      proceed: false,
      indexes: [],
      failFast: false,
      distributed: false,
      toleratedFailurePercentage: 100,
    });
  });

  it('refuses task inputs that are not the state machine’s', async () => {
    const tasks = new WorkflowTasks(harness().tasks);
    await expect(tasks.plan({})).rejects.toMatchObject({ name: 'ZodError' });
    await expect(tasks.copyImage({ runId: 'r', index: -1 })).rejects.toMatchObject({ name: 'ZodError' });
    await expect(tasks.finish({ runId: 7 })).rejects.toMatchObject({ name: 'ZodError' });
  });

  it('CopyImage takes the Map item (runId, index, failFast)', async () => {
    const h = harness();
    addImage(h.engines.repo(SRC, 'library/a'), 'v1', ['a']);
    const run = await createRun(h.store, ['library/a:v1']);
    const tasks = new WorkflowTasks(h.tasks);
    await tasks.plan({ runId: run.runId });
    expect(await tasks.copyImage({ runId: run.runId, index: 0, failFast: 'false' })).toEqual({ status: 'completed' });
  });

  it('RecordFailure takes the message out of Lambda’s JSON Cause', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1']);
    const cause = JSON.stringify({ errorType: 'TransportError', errorMessage: 'src.test: connection reset' });
    await new WorkflowTasks(h.tasks).recordFailure({
      runId: run.runId,
      index: 0,
      error: { Error: 'TransportError', Cause: cause },
    });
    expect(h.store.image(run.runId, 0).message).toBe('src.test: connection reset (gave up after retries)');
  });

  it('RecordFailure takes the local interpreter’s Cause as the message itself', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1']);
    await new WorkflowTasks(h.tasks).recordFailure({
      runId: run.runId,
      index: 0,
      error: { Error: 'TransportError', Cause: 'reset by peer' },
    });
    expect(h.store.image(run.runId, 0).message).toBe('reset by peer (gave up after retries)');
  });

  it('RecordFailure falls back to the error name, then to "failed", claiming no retries for errors never retried', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1', 'library/b:v1']);
    const tasks = new WorkflowTasks(h.tasks);
    await tasks.recordFailure({ runId: run.runId, index: 0, error: { Error: 'TypeError' } });
    await tasks.recordFailure({ runId: run.runId, index: 1 });
    expect(h.store.image(run.runId, 0).message).toBe('TypeError');
    expect(h.store.image(run.runId, 1).message).toBe('failed');
  });

  it('RecordFailure names a Lambda timeout, out-of-memory kill or throttling with the image’s invocations and the limits', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1', 'library/b:v1', 'library/c:v1', 'library/d:v1']);
    const tasks = new WorkflowTasks(h.tasks);
    const limits = { timeoutSeconds: 900, memoryMB: 1024 };
    for (const index of [0, 0, 1]) await h.store.countInvocation(run.runId, index);
    await tasks.recordFailure({ runId: run.runId, index: 0, error: { Error: 'States.Timeout' }, limits });
    await tasks.recordFailure({ runId: run.runId, index: 1, error: { Error: 'Runtime.OutOfMemory' }, limits });
    await tasks.recordFailure({
      runId: run.runId,
      index: 2,
      error: { Error: 'Lambda.TooManyRequestsException', Cause: 'Rate Exceeded.' },
    });
    await tasks.recordFailure({ runId: run.runId, index: 3, error: { Error: 'Sandbox.Timedout' } });
    expect([0, 1, 2, 3].map((i) => h.store.image(run.runId, i).message)).toEqual([
      'copy-image timed out after 2 invocations (Lambda 15-minute limit)',
      'copy-image ran out of memory (1024 MB) after 1 invocation',
      'copy-image could not be invoked: Lambda throttled it (Lambda.TooManyRequestsException), gave up after retries',
      'copy-image timed out (the Lambda time limit)',
    ]);
  });

  it('Finish given Finish’s error only marks the run failed, naming the cause', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1']);
    const cause = JSON.stringify({ errorType: 'CatalogError', errorMessage: 'index unreadable' });
    expect(
      await new WorkflowTasks(h.tasks).finish({
        runId: run.runId,
        finishError: { Error: 'CatalogError', Cause: cause },
      }),
    ).toEqual({ status: 'failed' });
    expect(await h.store.getRun(run.runId)).toMatchObject({
      status: 'failed',
      message: 'the run could not finish: CatalogError: index unreadable',
      imagesFailed: 1,
    });
    expect(h.store.image(run.runId, 0).message).toBe(
      'not copied: the run could not finish: CatalogError: index unreadable',
    );
  });

  it('RecordFailure stops a failFast run', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1', 'library/b:v1'], { failFast: true });
    expect(
      await new WorkflowTasks(h.tasks).recordFailure({ runId: run.runId, index: 0, error: { Error: 'X' } }),
    ).toEqual({ status: 'failed' });
    expect(await h.store.getRun(run.runId)).toMatchObject({ status: 'failed', imagesFailed: 1 });
  });

  it('causeMessage keeps a JSON Cause without errorMessage as it is', () => {
    expect(causeMessage('{"errorType":"X"}')).toBe('{"errorType":"X"}');
    expect(causeMessage('not json')).toBe('not json');
    expect(causeMessage(undefined)).toBeUndefined();
  });

  it('dispatches the four tasks by their FERRY_TASK name', async () => {
    const h = harness();
    const run = await createRun(h.store, []);
    const handlers = new WorkflowTasks(h.tasks).handlers();
    expect(Object.keys(handlers).sort()).toEqual(['copyImage', 'finish', 'plan', 'recordFailure']);
    expect(await handlers.finish({ runId: run.runId })).toEqual({ status: 'completed' });
    expect(h.events.published).toHaveLength(1);
  });
});
