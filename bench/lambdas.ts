import { DynamoBlobIndex } from '../functions/aws/dynamo-blob-index.js';
import { createRunTable, DynamoRunStore } from '../functions/aws/dynamo-run-store.js';
import { LocalEvents } from '../functions/local/local-events.js';
import { MemoryVault } from '../functions/local/memory-vault.js';
import { silentLogger } from '../functions/oci/log.js';
import { EngineFactory } from '../functions/runs/engine.js';
import { WorkflowTasks } from '../functions/handlers/workflow/workflow-tasks.js';
import { RunTasks } from '../functions/runs/tasks.js';
import { startDynalite } from '../test/support/dynamodb.js';
import type { RunningRegistry } from '../test/support/registry-process.js';
import { inProgressRun } from '../test/support/run-records.js';

export interface LambdaShapeResult {
  /** Wall seconds per repetition. */
  seconds: number[];
  /** Bytes uploaded per repetition (summed over the images' records). */
  bytes: number[];
}

/**
 * Scenario (f), the deployed service's shape: every image copied by its own copy-image "Lambda"
 * (its own engine: memory, connections, in-flight dedup), all at once as the Map starts them,
 * against one run table — with only per-process memory, or with the shared blob index and leases.
 */
export async function measureLambdaShape(
  src: RunningRegistry,
  dst: RunningRegistry,
  images: readonly string[],
  shared: boolean,
  reps: number,
  prefix: (name: string) => string,
): Promise<LambdaShapeResult> {
  const dynamo = await startDynalite();
  const result: LambdaShapeResult = { seconds: [], bytes: [] };
  try {
    for (let rep = 0; rep < reps; rep++) {
      // A fresh table per repetition: the index must not remember the previous repetition's copies.
      const tableName = `ferry-runs-${rep}`;
      await createRunTable(dynamo.client, tableName);
      const store = new DynamoRunStore({ client: dynamo.client, tableName });
      const runId = prefix('lambdas');
      const into = prefix(shared ? 'lambdas-shared' : 'lambdas-alone');
      await store.createRun(
        inProgressRun({ runId, totalImages: images.length, options: { destination: { registry: dst.host } } }),
        images.map((image, index) => ({
          runId,
          index,
          source: `${src.host}/${image}`,
          destination: `${dst.host}/${into}/${image}`,
          status: 'pending' as const,
        })),
      );
      const containers = images.map(() => {
        const index = new DynamoBlobIndex({ client: dynamo.client, tableName });
        const engines = new EngineFactory({
          vault: new MemoryVault(),
          logger: silentLogger,
          ...(shared ? { sharedBlobs: { index, leases: index } } : {}),
        });
        return {
          engines,
          tasks: new WorkflowTasks(
            new RunTasks({ store, engines, events: new LocalEvents(silentLogger), logger: silentLogger }),
          ),
        };
      });
      const started = process.hrtime.bigint();
      const outcomes = await Promise.all(containers.map((c, index) => c.tasks.copyImage({ runId, index })));
      result.seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
      await Promise.all(containers.map((c) => c.engines.close()));
      if (outcomes.some((o) => o.status !== 'completed'))
        throw new Error(`(f) an image did not complete: ${JSON.stringify(outcomes)}`);
      const records = await store.listImages(runId);
      result.bytes.push(records.reduce((n, r) => n + (r.bytes ?? 0), 0));
    }
  } finally {
    await dynamo.stop();
  }
  return result;
}
