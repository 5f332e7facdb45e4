import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoBlobIndex } from '../../functions/aws/dynamo-blob-index.js';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { LocalEvents } from '../../functions/local/local-events.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import { silentLogger } from '../../functions/oci/log.js';
import { EngineFactory } from '../../functions/runs/engine.js';
import type { RunRecord } from '../../functions/runs/model.js';
import { WorkflowTasks } from '../../functions/handlers/workflow/workflow-tasks.js';
import { RunTasks } from '../../functions/runs/tasks.js';
import type { BlobIndex, BlobLeases } from '../../functions/mirror/blob-index.js';
import { type RunningDynamo, startDynalite } from '../support/dynamodb.js';
import { createEngine } from '../support/engine.js';
import { parseLocation } from '../../functions/oci/reference.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { inProgressRun } from '../support/run-records.js';

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
function container(durable: boolean, leases?: BlobLeases): WorkflowTasks {
  const index = new DynamoBlobIndex({ client: dynamo.client, tableName: table });
  const engines = new EngineFactory({
    vault: new MemoryVault(),
    logger: silentLogger,
    ...(durable ? { sharedBlobs: { index, ...(leases ? { leases } : {}) } } : {}),
  });
  return new WorkflowTasks(
    new RunTasks({ store, engines, events: new LocalEvents(silentLogger), logger: silentLogger }),
  );
}

/** Above the size from which blobs go through the shared index (1 MiB). */
const baseSize = 1_500_000;

/** A run of two images sharing a base layer, into two repositories of the destination. */
async function twoImageRun(name: string, options: { sameRepository?: boolean; sourceHost?: string } = {}) {
  const prefix = `blobindex/${name}-${rng.int(1e9)}`;
  const base = rng.bytes(baseSize);
  const images = [buildImage({ layers: [base, rng.bytes(2_000)] }), buildImage({ layers: [base, rng.bytes(2_000)] })];
  const repo = (i: number) => (options.sameRepository ? `${prefix}/app` : `${prefix}/app${i}`);
  const tag = (i: number) => (options.sameRepository ? `v${i}` : 'v1');
  for (const [i, image] of images.entries()) await push(src.url, repo(i), tag(i), image);
  const runId = `run-${name}-${rng.int(1e9)}`;
  const run: RunRecord = inProgressRun({ runId, totalImages: 2, options: { destination: { registry: proxy.host } } });
  await store.createRun(
    run,
    images.map((_, index) => ({
      runId,
      index,
      source: `${options.sourceHost ?? src.host}/${repo(index)}:${tag(index)}`,
      destination: `${proxy.host}/${repo(index)}:${tag(index)}`,
      status: 'pending' as const,
    })),
  );
  const baseDigest = images[0]!.blobs[1]!.digest;
  /** How the second image's base layer reached the destination. */
  const baseArrival = () => {
    const requests = proxy.seen.filter((r) => r.url.startsWith(`/v2/${prefix}/app1/blobs/uploads/`));
    return {
      mountedFrom: requests
        .map((r) => /[?&]mount=([^&]+)&from=([^&]+)/.exec(r.url))
        .find((m) => m && decodeURIComponent(m[1]!) === baseDigest)?.[2],
      uploaded: requests.some((r) => r.method === 'PUT' && decodeURIComponent(r.url).includes(`digest=${baseDigest}`)),
    };
  };
  return { runId, prefix, images, baseDigest, baseArrival, repo, tag };
}

describe('the blob index shared by copy-image Lambdas', () => {
  it('mounts a layer another Lambda already copied into a sibling repository instead of streaming it again', async () => {
    const { runId, prefix, images, baseArrival } = await twoImageRun('shared');
    expect(await container(true).copyImage({ runId, index: 0 })).toEqual({ status: 'completed' });
    expect(await container(true).copyImage({ runId, index: 1 })).toEqual({ status: 'completed' });
    expect(baseArrival()).toEqual({ mountedFrom: encodeURIComponent(`${prefix}/app0`), uploaded: false });
    const second = await store.getImage(runId, 1);
    expect(second).toMatchObject({
      status: 'completed',
      digest: images[1]!.digest,
      message: 'copied 2 blobs, mounted 1, 0 already there',
    });
    expect(second?.bytes).toBeLessThan(baseSize);
    for (const [i, image] of images.entries())
      expect(await remoteDigest(dst.url, `${prefix}/app${i}`, 'v1')).toBe(image.digest);
  });

  it('streams the layer again when each Lambda only has its own memory (the control)', async () => {
    const { runId, baseArrival } = await twoImageRun('alone');
    await container(false).copyImage({ runId, index: 0 });
    await container(false).copyImage({ runId, index: 1 });
    expect(baseArrival()).toEqual({ mountedFrom: undefined, uploaded: true });
    expect((await store.getImage(runId, 1))?.bytes).toBeGreaterThan(baseSize);
  });

  /**
   * Two Lambdas start together. The source holds the first GET of the shared layer until the
   * other Lambda has been refused the claim on it (or until a second GET shows both streaming).
   */
  async function together(name: string, sameRepository: boolean) {
    let open!: () => void;
    const refused = { promise: new Promise<void>((r) => (open = r)), resolve: () => open() };
    let baseDigest = '';
    let baseGets = 0;
    const source = await startFaultProxy(src.url, (r) => {
      if (r.method !== 'GET' || !baseDigest || !r.url.endsWith(`/blobs/${baseDigest}`)) return undefined;
      if (++baseGets > 1) refused.resolve();
      return { kind: 'hold', until: refused.promise };
    });
    try {
      const durable = new DynamoBlobIndex({ client: dynamo.client, tableName: table });
      const leases: BlobLeases = {
        claim: async (...args) => {
          const claim = await durable.claim(...args);
          if (!claim.granted) refused.resolve();
          return claim;
        },
        release: (...args) => durable.release(...args),
      };
      const run = await twoImageRun(name, { sameRepository, sourceHost: source.host });
      baseDigest = run.baseDigest;
      const results = await Promise.all(
        [0, 1].map((index) => container(true, leases).copyImage({ runId: run.runId, index })),
      );
      expect(results).toEqual([{ status: 'completed' }, { status: 'completed' }]);
      for (const [i, image] of run.images.entries())
        expect(await remoteDigest(dst.url, run.repo(i), run.tag(i))).toBe(image.digest);
      const images = await Promise.all([0, 1].map((i) => store.getImage(run.runId, i)));
      return { baseGets, messages: images.map((i) => i?.message), bytes: images.map((i) => i?.bytes ?? 0) };
    } finally {
      await source.stop();
    }
  }

  it('streams a layer shared by images copied at once by two Lambdas once: one claims it, the other waits and mounts it', async () => {
    const { baseGets, messages, bytes } = await together('claimed', false);
    expect(baseGets).toBe(1);
    expect(messages.sort()).toEqual(
      ['copied 2 blobs, mounted 1, 0 already there', 'copied 3 blobs, mounted 0, 0 already there'].sort(),
    );
    expect(bytes.filter((b) => b > baseSize)).toHaveLength(1);
  });

  it('waits for another tag of the same repository to bring the layer, then finds it there', async () => {
    const { baseGets, messages } = await together('sametag', true);
    expect(baseGets).toBe(1);
    expect(messages.sort()).toEqual(
      ['copied 2 blobs, mounted 0, 1 already there', 'copied 3 blobs, mounted 0, 0 already there'].sort(),
    );
  });

  it('takes a claim over when its holder went away (lease lapsed) and streams the layer itself', async () => {
    const durable = new DynamoBlobIndex({ client: dynamo.client, tableName: table });
    const { prefix, images, baseDigest } = await twoImageRun('lapsed');
    // A lease far longer than the test: it lapses only when this engine's clock says so — right
    // after the engine was first refused — so "waiting" then "takeover" happen in that order on
    // any machine, however loaded.
    await durable.claim(proxy.host, baseDigest, 'a Lambda that timed out', 60_000);
    let skewMs = 0;
    const engineIndex = new DynamoBlobIndex({
      client: dynamo.client,
      tableName: table,
      now: () => new Date(Date.now() + skewMs),
    });
    const lapsing: BlobIndex & BlobLeases = {
      locations: (registry, digest) => engineIndex.locations(registry, digest),
      record: (...args) => engineIndex.record(...args),
      forget: (...args) => engineIndex.forget(...args),
      release: (...args) => engineIndex.release(...args),
      claim: async (registry, digest, holder, ms) => {
        const answer = await engineIndex.claim(registry, digest, holder, ms);
        if (answer.granted) return answer;
        // The index's clock jumps past the lease; `until` is handed to the engine on its own clock.
        skewMs = 120_000;
        return { ...answer, until: answer.until - skewMs };
      },
    };
    const said: string[] = [];
    const logger = {
      debug: (m: string) => said.push(m),
      info: (m: string) => said.push(m),
      warn: (m: string) => said.push(m),
    };
    const engine = createEngine({ blobs: { shared: { index: lapsing, leases: lapsing }, pollMs: 20, logger } });
    try {
      const result = await engine.copier.copy(
        engine.registries.image(parseLocation(`${src.host}/${prefix}/app0:v1`), 'source'),
        engine.registries.image(parseLocation(`${proxy.host}/${prefix}/app0:v1`), 'destination'),
      );
      expect(result).toMatchObject({ status: 'copied', digest: images[0]!.digest, blobs: { copied: 3, mounted: 0 } });
      expect(said).toContain('blob being copied by another process: waiting to mount it');
      // Released after the copy: the next claimant gets it at once.
      expect(await durable.claim(proxy.host, baseDigest, 'next', 1_000)).toEqual({ granted: true });
      expect(await durable.locations(proxy.host, baseDigest)).toEqual([`${prefix}/app0`]);
    } finally {
      await engine.close();
    }
  });

  it('copies small blobs (configs, small layers) without asking the shared index', async () => {
    const { runId, prefix } = await twoImageRun('small');
    const before = proxy.seen.length;
    const asked: string[] = [];
    const index = new DynamoBlobIndex({ client: dynamo.client, tableName: table });
    const counting: BlobIndex & BlobLeases = {
      locations: (registry, digest) => (asked.push(digest), index.locations(registry, digest)),
      claim: (registry, digest, holder, ms) => (asked.push(digest), index.claim(registry, digest, holder, ms)),
      record: (...args) => index.record(...args),
      forget: (...args) => index.forget(...args),
      release: (...args) => index.release(...args),
    };
    const engines = new EngineFactory({
      vault: new MemoryVault(),
      logger: silentLogger,
      sharedBlobs: { index: counting, leases: counting },
    });
    await new WorkflowTasks(
      new RunTasks({ store, engines, events: new LocalEvents(silentLogger), logger: silentLogger }),
    ).copyImage({
      runId,
      index: 0,
    });
    const image = await store.getImage(runId, 0);
    expect(image?.status).toBe('completed');
    // Three blobs went up (config, 2 KB layer, base), and only the base was looked up and claimed.
    expect(
      proxy.seen
        .slice(before)
        .filter((r) => r.method === 'PUT' && r.url.startsWith(`/v2/${prefix}/app0/blobs/uploads/`)),
    ).toHaveLength(3);
    expect(new Set(asked).size).toBe(1);
    expect(asked).toHaveLength(2);
  });
});
