import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import type { WorkflowStarter } from '../../functions/runs/ports.js';
import { startScheduledRun } from '../../functions/runs/schedule.js';
import { RunService } from '../../functions/runs/service.js';
import { type RunningDynamo, startDynalite } from '../support/dynamodb.js';

/** Step Functions StartExecution is an AWS control plane: a recording port stands in for it here. */
class RecordingWorkflow implements WorkflowStarter {
  readonly started: string[] = [];
  start(runId: string): Promise<string> {
    this.started.push(runId);
    return Promise.resolve(`execution-${runId}`);
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

let engine: RunningDynamo;
let store: DynamoRunStore;
beforeAll(async () => {
  engine = await startDynalite();
  await createRunTable(engine.client, 'schedules');
  store = new DynamoRunStore({ client: engine.client, tableName: 'schedules' });
});
afterAll(() => engine.stop());

describe('scheduled runs', () => {
  it('start no second run while the schedule’s previous run is in progress', async () => {
    const workflow = new RecordingWorkflow();
    const service = new RunService({ store, vault: new MemoryVault(), workflow });
    // The Scheduler target's input, as a value: nothing serialises it to be parsed again.
    const body = {
      images: ['docker.io/library/busybox:1.36'],
      destination: { registry: 'registry.example' },
    };
    const first = await startScheduledRun(service, 'nightly', body);
    expect(first.started).toBe(true);
    const overlapping = await startScheduledRun(service, 'nightly', body);
    expect(overlapping).toEqual({
      started: false,
      skippedBecause: `run ${first.runId} of schedule nightly is still in progress`,
    });
    expect(workflow.started).toEqual([first.runId]);
    expect((await startScheduledRun(service, 'weekly', body)).started).toBe(true);

    await store.finishRun(first.runId!, { status: 'completed', imagesProcessed: 1, imagesFailed: 0, bytesCopied: 0 });
    const next = await startScheduledRun(service, 'nightly', body);
    expect(next.started).toBe(true);
    expect((await store.getRun(next.runId!))?.options.schedule).toBe('nightly');
  });
});
