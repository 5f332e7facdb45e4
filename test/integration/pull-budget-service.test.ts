import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DynamoPullBudgetStore } from '../../functions/aws/dynamo-pull-budget.js';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { WorkflowTasks } from '../../functions/handlers/workflow/workflow-tasks.js';
import { LocalEvents } from '../../functions/local/local-events.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import { silentLogger } from '../../functions/oci/log.js';
import { EngineFactory } from '../../functions/runs/engine.js';
import { RunTasks } from '../../functions/runs/tasks.js';
import { type RunningDynamo, startDynamoDbLocal } from '../support/dynamodb.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { type RateLimitedRegistry, startRateLimitedRegistry } from '../support/rate-limited-registry.js';
import { inProgressRun } from '../support/run-records.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1103);
const table = 'ferry-runs';
let dynamo: RunningDynamo;
let store: DynamoRunStore;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
  await createRunTable(dynamo.client, table);
  store = new DynamoRunStore({ client: dynamo.client, tableName: table });
}, 60_000);
afterAll(() => dynamo?.stop());

/** One copy-image Lambda container: its own engine and memory; the run table (and so the budget) shared. */
function container(maxWaitMs: number): WorkflowTasks {
  const engines = new EngineFactory({
    vault: new MemoryVault(),
    logger: silentLogger,
    pullBudget: {
      store: new DynamoPullBudgetStore({ client: dynamo.client, tableName: table }),
      maxWaitMs: () => maxWaitMs,
    },
  });
  return new WorkflowTasks(
    new RunTasks({ store, engines, events: new LocalEvents(silentLogger), logger: silentLogger }),
  );
}

/** A run of `count` one-layer images read through `upstream`, each into its own destination repository. */
async function runOf(name: string, count: number, upstream: RateLimitedRegistry, dryRun = false) {
  const prefix = `budget/${name}-${rng.int(1e9)}`;
  const images = Array.from({ length: count }, () => buildImage({ layers: [rng.bytes(1_200)] }));
  for (const [i, image] of images.entries()) await push(src.url, `${prefix}/app${i}`, 'v1', image);
  const runId = `run-${name}-${rng.int(1e9)}`;
  await store.createRun(
    inProgressRun({ runId, totalImages: count, options: { destination: { registry: dst.host }, dryRun } }),
    images.map((_, index) => ({
      runId,
      index,
      source: `${upstream.host}/${prefix}/app${index}:v1`,
      destination: `${dst.host}/${prefix}/app${index}:v1`,
      status: 'pending' as const,
    })),
  );
  return { runId, prefix, images };
}

describe('the pull budget of the deployed service (run table on DynamoDB Local)', () => {
  it('two Lambdas copying at once never overspend it; images past it fail with when it resets, no 429', async () => {
    const upstream = await startRateLimitedRegistry(src.url, { limit: 3, windowSeconds: 21_600 });
    try {
      const { runId, prefix, images } = await runOf('lambdas', 5, upstream);
      const [a, b] = [container(60_000), container(60_000)];
      // The first copy learns the budget (3 a window, 2 left); then four copies at once in two Lambdas.
      expect(await a.copyImage({ runId, index: 0 })).toEqual({ status: 'completed' });
      const results = await Promise.all([1, 2, 3, 4].map((index) => (index % 2 ? a : b).copyImage({ runId, index })));
      expect(results.filter((r) => r.status === 'completed')).toHaveLength(2);
      expect(results.filter((r) => r.status === 'failed')).toHaveLength(2);
      expect(upstream.refusals()).toBe(0);
      expect(upstream.pulls()).toBe(3);
      const stored = await store.listImages(runId);
      for (const image of stored.filter((i) => i.status === 'failed')) {
        expect(image.message).toBe(
          `${upstream.host}/${prefix}/app${image.index}: ${upstream.host} pull budget spent (0 of 3 left, resets in 5h 59m), longer than this copy may wait (1m 0s)`,
        );
        expect(await remoteDigest(dst.url, `${prefix}/app${image.index}`, 'v1')).toBeUndefined();
      }
      for (const image of stored.filter((i) => i.status === 'completed'))
        expect(await remoteDigest(dst.url, `${prefix}/app${image.index}`, 'v1')).toBe(images[image.index]!.digest);
    } finally {
      await upstream.close();
    }
  });

  it('a copy that may wait waits for the window, and says so on its image while it waits', async () => {
    // A one-second window: the Lambda waits it out on its real clock; the test only awaits the copy.
    const upstream = await startRateLimitedRegistry(src.url, { limit: 1, windowSeconds: 1 });
    const annotate = vi.spyOn(store, 'annotateImage');
    try {
      const { runId, prefix, images } = await runOf('waits', 2, upstream);
      const lambda = container(60_000);
      expect(await lambda.copyImage({ runId, index: 0 })).toEqual({ status: 'completed' });
      expect(await lambda.copyImage({ runId, index: 1 })).toEqual({ status: 'completed' });
      const said = annotate.mock.calls.filter(([id, index]) => id === runId && index === 1).map(([, , f]) => f.message);
      expect(said[0]).toMatch(new RegExp(`^waiting for ${upstream.host} pull budget: 0 left, resets in \\d+s$`));
      expect(upstream.refusals()).toBe(0);
      expect(await remoteDigest(dst.url, `${prefix}/app1`, 'v1')).toBe(images[1]!.digest);
    } finally {
      annotate.mockRestore();
      await upstream.close();
    }
  });

  it("the API's dry run says what the run costs against the upstream's budget, as data and in the run's message", async () => {
    const upstream = await startRateLimitedRegistry(src.url, { limit: 100, windowSeconds: 21_600 });
    try {
      const { runId } = await runOf('dry', 2, upstream, true);
      const lambda = container(60_000);
      for (const index of [0, 1]) expect(await lambda.copyImage({ runId, index })).toEqual({ status: 'skipped' });
      const [first, second] = await store.listImages(runId);
      expect(first?.dryRun?.pullBudget).toEqual({ remaining: 99, limit: 100, windowMs: 21_600_000 });
      expect(second?.dryRun?.pullBudget).toEqual({ remaining: 98, limit: 100, windowMs: 21_600_000 });
      expect(await lambda.finish({ runId })).toEqual({ status: 'completed' });
      expect((await store.getRun(runId))?.message).toMatch(
        new RegExp(`; ${upstream.host.replace('.', '\\.')}: 2 manifest GETs, budget 98 left of 100 per 6h$`),
      );
      expect(upstream.refusals()).toBe(0);
    } finally {
      await upstream.close();
    }
  });
});
