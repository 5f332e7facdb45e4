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

  it('RecordFailure falls back to the error name, then to "failed"', async () => {
    const h = harness();
    const run = await createRun(h.store, ['library/a:v1', 'library/b:v1']);
    const tasks = new WorkflowTasks(h.tasks);
    await tasks.recordFailure({ runId: run.runId, index: 0, error: { Error: 'States.Timeout' } });
    await tasks.recordFailure({ runId: run.runId, index: 1 });
    expect(h.store.image(run.runId, 0).message).toBe('States.Timeout (gave up after retries)');
    expect(h.store.image(run.runId, 1).message).toBe('failed (gave up after retries)');
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
