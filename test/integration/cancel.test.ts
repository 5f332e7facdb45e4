import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import type { RunningServer } from '../../functions/local/serve.js';
import { silentLogger } from '../../functions/oci/log.js';
import { EngineFactory } from '../../functions/runs/engine.js';
import { RunService } from '../../functions/runs/service.js';
import type { RunStore } from '../../functions/runs/store.js';
import type { ImageRecord, RunRecord } from '../../functions/runs/model.js';
import { WorkflowTasks } from '../../functions/handlers/workflow/workflow-tasks.js';
import { RunTasks } from '../../functions/runs/tasks.js';
import { skopeoDigest } from '../support/cli.js';
import { type RunningDynamo, startDynalite } from '../support/dynamodb.js';
import { buildImage, type BuiltManifest, push, remoteDigest, Rng } from '../support/fixtures.js';
import { type HeldProxy, startHeldProxy } from '../support/held-proxy.js';
import { waitFor } from '../support/ports.js';
import { api, type RunView, startService } from '../support/service.js';
import { inProgressRun } from '../support/run-records.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 71);
const proxies: HeldProxy[] = [];
afterEach(async () => {
  // Released first: a test that failed while a body was held must not keep anything waiting.
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

/**
 * An image with one layer (1 MiB: the transport's pooled stream path; smaller: undici's) in the
 * source registry, for a proxy to stall.
 */
async function heldImage(name: string, size = 1 << 20): Promise<{ repo: string; image: BuiltManifest; layer: string }> {
  const repo = `cancel/${name}-${rng.int(1e9)}`;
  const image = buildImage({ layers: [rng.bytes(size)] });
  await push(src.url, repo, 'v1', image);
  const layer = image.blobs.find((b) => b.data.length === size)!.digest;
  return { repo, image, layer };
}

/** The destination tag is absent, by HEAD and by skopeo (an independent client). */
async function expectNoTag(repo: string): Promise<void> {
  expect(await remoteDigest(dst.url, repo, 'v1')).toBeUndefined();
  await expect(skopeoDigest(`${dst.host}/${repo}:v1`)).rejects.toThrow(/manifest unknown|not found/i);
}

describe('cancel over ferry serve', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startService();
  });
  afterAll(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.stop()));
    await server.close();
  });

  it('stops copies already streaming: the held source is abandoned, no tag is written, every image ends failed "cancelled"', async () => {
    const images = [await heldImage('a'), await heldImage('b')];
    const layers = new Set(images.map((i) => i.layer));
    const proxy = await startHeldProxy(
      src.url,
      (method, url) => method === 'GET' && [...layers].some((l) => url.includes(`/blobs/${l}`)),
    );
    proxies.push(proxy);
    const started = await api(server.url, 'POST', '/v1/runs', {
      images: images.map((i) => `${proxy.host}/${i.repo}:v1`),
      destination: { registry: dst.host },
    });
    expect(started.status).toBe(202);
    const { runId } = started.json as RunView;
    await proxy.waitHeld(2);

    const cancelled = await api(server.url, 'POST', `/v1/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ status: 'cancelled' });
    // The copies hang up on the stalled bodies: nothing is waiting on the source any more.
    await waitFor(() => Promise.resolve(proxy.abandoned() === 2), 'the copies to abandon the held layers', 800);
    await server.drain();

    const run = (await api(server.url, 'GET', `/v1/runs/${runId}`)).json as RunView;
    expect(run.status).toBe('cancelled');
    expect(Object.values(run.images).map((i) => [i.status, i.message])).toEqual([
      ['failed', 'cancelled'],
      ['failed', 'cancelled'],
    ]);
    expect(run).toMatchObject({ imagesProcessed: 2, imagesFailed: 2 });
    proxy.release();
    for (const image of images) await expectNoTag(image.repo);
  });
});

describe('cancel over ferry serve, source silent', () => {
  it('stops a copy whose source has not even answered yet, and hangs up on the late answer', async () => {
    const server = await startService();
    // Below 1 MiB: undici's body, which errors when destroyed before its end.
    const { repo, layer } = await heldImage('silent', 300_000);
    const silent = await startHeldProxy(src.url, (method, url) => method === 'GET' && url.includes(`/blobs/${layer}`), {
      silent: true,
    });
    proxies.push(silent);
    try {
      const started = await api(server.url, 'POST', '/v1/runs', {
        images: [`${silent.host}/${repo}:v1`],
        destination: { registry: dst.host },
      });
      const { runId } = started.json as RunView;
      await silent.waitHeld(1);
      expect((await api(server.url, 'POST', `/v1/runs/${runId}/cancel`)).status).toBe(200);
      // Returns although the source has not answered: the copy gave up waiting for it.
      await server.drain();
      const run = (await api(server.url, 'GET', `/v1/runs/${runId}`)).json as RunView;
      expect(run.status).toBe('cancelled');
      expect(Object.values(run.images)[0]).toMatchObject({ status: 'failed', message: 'cancelled' });
      // The answer comes after all: its body is destroyed (quietly: an unheard error would crash the server).
      silent.release();
      await waitFor(() => Promise.resolve(silent.abandoned() === 1), 'the late body to be hung up on', 800);
    } finally {
      await server.close();
    }
    await expectNoTag(repo);
  });
});

describe('cancel seen by a copy-image Lambda (another process: no in-process signal, only the run store)', () => {
  let dynamo: RunningDynamo;
  let store: DynamoRunStore;
  let engines: EngineFactory;
  beforeAll(async () => {
    dynamo = await startDynalite();
    await createRunTable(dynamo.client, 'runs');
    store = new DynamoRunStore({ client: dynamo.client, tableName: 'runs' });
    engines = new EngineFactory({
      vault: new MemoryVault(),
      logger: silentLogger,
      transport: { retry: { baseDelayMs: 5, maxDelayMs: 20 } },
    });
  });
  afterAll(async () => {
    await engines?.close();
    await dynamo?.stop();
  });

  /** A run of `count` images, as the API Lambda writes it, and the Lambda's tasks (on `taskStore`) with a given poll interval. */
  async function lambdaRun(
    source: { host: string },
    repo: string,
    cancelPollMs: number,
    taskStore: RunStore = store,
    count = 1,
  ): Promise<{ runId: string; tasks: WorkflowTasks }> {
    const runId = `run-${rng.int(1e9)}`;
    const run: RunRecord = inProgressRun({
      runId,
      totalImages: count,
      options: { destination: { registry: dst.host } },
    });
    const images: ImageRecord[] = Array.from({ length: count }, (_, index) => ({
      runId,
      index,
      source: `${source.host}/${repo}:v1`,
      destination: `${dst.host}/${repo}${index === 0 ? '' : `-${index}`}:v1`,
      status: 'pending',
    }));
    await store.createRun(run, images);
    return {
      runId,
      tasks: new WorkflowTasks(
        new RunTasks({
          store: taskStore,
          engines,
          events: { runFinished: () => Promise.resolve() },
          cancelPollMs,
        }),
      ),
    };
  }

  it('cancel ends images left in progress (their Lambda died, or they wait for a retry that never comes) as well as pending ones', async () => {
    const { runId } = await lambdaRun(src, `cancel/died-${rng.int(1e9)}`, 20, store, 3);
    const service = new RunService({
      store,
      vault: new MemoryVault(),
      workflow: { start: () => Promise.resolve('exec'), stop: () => Promise.resolve() },
    });
    await store.startImage(runId, 0); // its Lambda died mid-copy
    await store.startImage(runId, 1);
    await store.finishImage(runId, 1, { status: 'completed', bytes: 10 }); // finished before the cancel: keeps its result
    expect(await service.cancelRun(runId)).toMatchObject({ status: 'cancelled' });
    expect((await store.listImages(runId)).map((i) => [i.status, i.message])).toEqual([
      ['failed', 'cancelled'],
      ['completed', undefined],
      ['failed', 'cancelled'],
    ]);
    // A copy that was really under way and finishes after the cancel changes nothing.
    expect(await store.finishImage(runId, 0, { status: 'completed', bytes: 10 })).toBe(false);
    expect(await service.getRun(runId)).toMatchObject({
      status: 'cancelled',
      imagesProcessed: 3,
      imagesFailed: 2,
      bytesCopied: 10,
    });
  });

  it('copies on when a look at the run store fails once (a throttle is no failure of the image)', async () => {
    const repo = `cancel/throttled-${rng.int(1e9)}`;
    const image = buildImage({ layers: [rng.bytes(20_000)] });
    await push(src.url, repo, 'v1', image);
    let failures = 1;
    const throttled = new Proxy(store, {
      get(target, property) {
        if (property === 'getRun' && failures > 0) {
          failures--;
          return () =>
            Promise.reject(
              Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
                name: 'ThrottlingException',
              }),
            );
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    // Polling too slow to matter: the first look is the first checkpoint's.
    const { runId, tasks } = await lambdaRun(src, repo, 3_600_000, throttled);
    expect(await tasks.copyImage({ runId, index: 0 })).toEqual({ status: 'completed' });
    expect(failures).toBe(0);
    expect(await remoteDigest(dst.url, repo, 'v1')).toBe(image.digest);
    expect(await store.getImage(runId, 0)).toMatchObject({ status: 'completed' });
  });

  it('notices the cancelled run by polling and stops the streaming copy', async () => {
    const { repo, layer } = await heldImage('poll');
    const proxy = await startHeldProxy(src.url, (method, url) => method === 'GET' && url.includes(`/blobs/${layer}`));
    proxies.push(proxy);
    const { runId, tasks } = await lambdaRun(proxy, repo, 20);
    const copying = tasks.copyImage({ runId, index: 0 });
    await proxy.waitHeld(1);
    expect(await store.cancelRun(runId)).toBe(true); // what POST /cancel does in the API Lambda
    expect(await copying).toEqual({ status: 'cancelled' });
    await waitFor(() => Promise.resolve(proxy.abandoned() === 1), 'the copy to abandon the held layer', 800);
    expect(await store.getImage(runId, 0)).toMatchObject({ status: 'failed', message: 'cancelled' });
    proxy.release();
    await expectNoTag(repo);
  });

  it('pushes no manifest after the cancel even when the blob could not be interrupted (checkpoint before the push)', async () => {
    const { repo, layer, image } = await heldImage('checkpoint');
    const proxy = await startHeldProxy(src.url, (method, url) => method === 'GET' && url.includes(`/blobs/${layer}`));
    proxies.push(proxy);
    // Polling too slow to matter: only the checkpoints can see the cancel.
    const { runId, tasks } = await lambdaRun(proxy, repo, 3_600_000);
    const copying = tasks.copyImage({ runId, index: 0 });
    await proxy.waitHeld(1);
    expect(await store.cancelRun(runId)).toBe(true);
    proxy.release(); // the layer finishes streaming
    expect(await copying).toEqual({ status: 'cancelled' });
    expect(proxy.abandoned()).toBe(0);
    // The layer arrived; the manifest and its tag did not.
    const blob = await fetch(`${dst.url}/v2/${repo}/blobs/${layer}`, { method: 'HEAD' });
    expect(blob.status).toBe(200);
    expect(await remoteDigest(dst.url, repo, image.digest)).toBeUndefined();
    await expectNoTag(repo);
    expect(await store.getImage(runId, 0)).toMatchObject({ status: 'failed', message: 'cancelled' });
  });
});
