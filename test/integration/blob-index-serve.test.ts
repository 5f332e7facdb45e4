import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1213);
let source: FaultProxy;
let destination: FaultProxy;
beforeAll(async () => {
  source = await startFaultProxy(src.url);
  destination = await startFaultProxy(dst.url);
});
afterAll(async () => {
  await source.stop();
  await destination.stop();
});

/** One run of `image` into `prefix` on a server over `dataDir`, started and closed around it. */
async function runOnce(dataDir: string, image: string, prefix: string) {
  const server = await startService({ dataDir });
  try {
    const started = await api(server.url, 'POST', '/v1/runs', {
      images: [image],
      destination: { registry: destination.host, prefix },
    });
    expect(started.status).toBe(202);
    return await waitForRun(server.url, (started.json as RunView).runId);
  } finally {
    await server.close();
  }
}

describe('ferry serve remembers blob locations across runs (the Lambdas’ DynamoDB blob index)', () => {
  it('a run after a restart, into another repository of the same registry, mounts the layer an earlier run uploaded', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-serve-index-'));
    const name = `blobindex-serve/app-${rng.int(1e9)}`;
    // Above the 1 MiB from which blobs go through the shared index.
    const image = buildImage({ layers: [rng.bytes(1_500_000 + rng.int(1000))] });
    await push(src.url, name, 'v1', image);
    const [config, layer] = image.blobs;
    const ref = `${source.host}/${name}:v1`;
    const layerGets = (from: number) =>
      source.seen.slice(from).filter((r) => r.method === 'GET' && r.url.endsWith(`/blobs/${layer!.digest}`)).length;

    const first = await runOnce(dataDir, ref, 'first');
    expect(first).toMatchObject({ status: 'completed', imagesFailed: 0 });
    expect(first.bytesCopied).toBe(config!.size + layer!.size);

    const [s, d] = [source.seen.length, destination.seen.length];
    const second = await runOnce(dataDir, ref, 'second');
    expect(second).toMatchObject({ status: 'completed', imagesFailed: 0 });
    // Only the config (below the index's 1 MiB) moved; the layer was mounted from the first run's repository.
    expect(second.bytesCopied).toBe(config!.size);
    expect(layerGets(s)).toBe(0);
    const mounts = destination.seen
      .slice(d)
      .filter((r) => r.method === 'POST' && r.url.includes(`mount=${encodeURIComponent(layer!.digest)}`));
    expect(mounts.map((r) => decodeURIComponent(/[?&]from=([^&]+)/.exec(r.url)?.[1] ?? ''))).toEqual([`first/${name}`]);
    expect(await remoteDigest(dst.url, `second/${name}`, 'v1')).toBe(image.digest);
  });
});
