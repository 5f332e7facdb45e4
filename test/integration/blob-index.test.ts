import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoBlobIndex } from '../../functions/aws/dynamo-blob-index.js';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { LocalEvents } from '../../functions/local/local-events.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import { silentLogger } from '../../functions/oci/log.js';
import { EngineFactory } from '../../functions/runs/engine.js';
import type { RunRecord } from '../../functions/runs/model.js';
import { WorkflowTasks } from '../../functions/runs/tasks.js';
import { type RunningDynamo, startDynalite } from '../support/dynamodb.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 31);
const table = 'ferry-runs';
let dynamo: RunningDynamo;
let store: DynamoRunStore;
let proxy: FaultProxy;
beforeAll(async () => {
  dynamo = await startDynalite();
  await createRunTable(dynamo.client, table);
  store = new DynamoRunStore({ client: dynamo.client, tableName: table });
  proxy = await startFaultProxy(dst.url);
});
afterAll(async () => {
  await proxy.stop();
  await dynamo.stop();
});

/** One copy-image Lambda container: its own engine (memory, connections), the shared table. */
function container(durable: boolean): WorkflowTasks {
  const engines = new EngineFactory({
    vault: new MemoryVault(), logger: silentLogger,
    ...(durable ? { blobIndex: new DynamoBlobIndex({ client: dynamo.client, tableName: table }) } : {}),
  });
  return new WorkflowTasks({ store, engines, events: new LocalEvents(silentLogger), logger: silentLogger });
}

/** A run of two images sharing a base layer, into two repositories of the destination. */
async function twoImageRun(name: string) {
  const prefix = `blobindex/${name}-${rng.int(1e9)}`;
  const base = rng.bytes(300_000);
  const images = [buildImage({ layers: [base, rng.bytes(2_000)] }), buildImage({ layers: [base, rng.bytes(2_000)] })];
  for (const [i, image] of images.entries()) await push(src.url, `${prefix}/app${i}`, 'v1', image);
  const runId = `run-${name}-${rng.int(1e9)}`;
  const run: RunRecord = {
    runId, status: 'in-progress', startTime: new Date().toISOString(), endTime: null, totalImages: 2, imagesProcessed: 0, imagesFailed: 0, bytesCopied: 0,
    options: { destination: { registry: proxy.host, insecure: false }, sourceCredentials: {}, platforms: [], referrers: false, override: true, failFast: false, dryRun: false },
  };
  await store.createRun(run, images.map((_, index) => ({
    runId, index, source: `${src.host}/${prefix}/app${index}:v1`, destination: `${proxy.host}/${prefix}/app${index}:v1`, status: 'pending' as const,
  })));
  const baseDigest = images[0]!.blobs[1]!.digest;
  /** How the second image's base layer reached the destination. */
  const baseArrival = () => {
    const requests = proxy.seen.filter((r) => r.url.startsWith(`/v2/${prefix}/app1/blobs/uploads/`));
    return {
      mountedFrom: requests.map((r) => /[?&]mount=([^&]+)&from=([^&]+)/.exec(r.url)).find((m) => m && decodeURIComponent(m[1]!) === baseDigest)?.[2],
      uploaded: requests.some((r) => r.method === 'PUT' && decodeURIComponent(r.url).includes(`digest=${baseDigest}`)),
    };
  };
  return { runId, prefix, images, baseDigest, baseArrival };
}

describe('the blob index shared by copy-image Lambdas', () => {
  it('mounts a layer another Lambda already copied into a sibling repository instead of streaming it again', async () => {
    const { runId, prefix, images, baseArrival } = await twoImageRun('shared');
    expect(await container(true).copyImage({ runId, index: 0 })).toEqual({ status: 'completed' });
    expect(await container(true).copyImage({ runId, index: 1 })).toEqual({ status: 'completed' });
    expect(baseArrival()).toEqual({ mountedFrom: encodeURIComponent(`${prefix}/app0`), uploaded: false });
    const second = await store.getImage(runId, 1);
    expect(second).toMatchObject({ status: 'completed', digest: images[1]!.digest, message: 'copied 2 blobs, mounted 1, 0 already there' });
    expect(second?.bytes).toBeLessThan(300_000);
    for (const [i, image] of images.entries()) expect(await remoteDigest(dst.url, `${prefix}/app${i}`, 'v1')).toBe(image.digest);
  });

  it('streams the layer again when each Lambda only has its own memory (the control)', async () => {
    const { runId, baseArrival } = await twoImageRun('alone');
    await container(false).copyImage({ runId, index: 0 });
    await container(false).copyImage({ runId, index: 1 });
    expect(baseArrival()).toEqual({ mountedFrom: undefined, uploaded: true });
    expect((await store.getImage(runId, 1))?.bytes).toBeGreaterThan(300_000);
  });
});
