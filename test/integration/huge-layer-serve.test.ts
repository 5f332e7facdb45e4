import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { skopeoDigest } from '../support/cli.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { pushLargeImage } from '../support/large-layer.js';
import { Rng } from '../support/fixtures.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

// issue 11, "Huge layers": through `ferry serve` with a short `--task-deadline`, a layer that
// cannot stream within one invocation (a 40 MiB layer read through a proxy that caps the source
// at 6 MiB/s: at least 6.7 s of transfer against 6 s invocations) is parked as a checkpoint on its
// image and finished by the next invocations of the same copy task, byte-identical. Whatever the
// machine's speed, the cap makes one invocation too short: the count is a lower bound, not a race.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1111);
const size = 40 * 1024 * 1024;
let source: FaultProxy;
beforeAll(async () => {
  source = await startFaultProxy(src.url, undefined, { bytesPerSecond: 6 * 1024 * 1024 });
});
afterAll(() => source.stop());

describe('ferry serve --task-deadline: a huge layer over several invocations', () => {
  it('parks the layer at the deadline, resumes it from its checkpoint and completes it byte-identical', async () => {
    const name = `huge/app-${rng.int(1e9)}`;
    const image = await pushLargeImage(src.url, name, 'v1', size, seed + 7);
    const server = await startService({ taskDeadlineSeconds: 6 });
    try {
      const started = await api(server.url, 'POST', '/v1/runs', {
        images: [`${source.host}/${name}:v1`],
        destination: { registry: dst.host, prefix: 'huge' },
      });
      expect(started.status, started.text).toBe(202);
      const view = await waitForRun(server.url, (started.json as RunView).runId);
      expect(view.status, JSON.stringify(view)).toBe('completed');
      const item = Object.values(view.images ?? {})[0] as { invocations?: number; message?: string; digest?: string };
      expect(item.invocations).toBeGreaterThanOrEqual(2);
      expect(item.message).toMatch(/over \d+ invocations/);
      expect(item.digest).toBe(image.manifestDigest);
      // The source was read on from where each invocation parked: Range requests for the layer.
      const ranged = source.seen.filter((r) => r.url.includes(image.layer.digest) && r.headers.range !== undefined);
      expect(ranged.length).toBeGreaterThanOrEqual(1);
      // skopeo reads every blob back and checks its digest: the layer arrived whole.
      expect(await skopeoDigest(`${dst.host}/huge/${name}:v1`)).toBe(image.manifestDigest);
      const head = await fetch(`${dst.url}/v2/huge/${name}/blobs/${image.layer.digest}`, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length')]).toEqual([200, String(size)]);
    } finally {
      await server.close();
    }
  }, 180_000);
});
