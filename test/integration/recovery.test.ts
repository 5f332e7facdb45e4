import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { skopeoDigest } from '../support/cli.js';
import { basicHeader } from '../support/engine.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { type HeldProxy, startHeldProxy } from '../support/held-proxy.js';
import { startServeProcess } from '../support/serve-process.js';
import { api, type RunView, waitForRun } from '../support/service.js';

const { seed, src, dst, basic } = inject('registries');
const rng = new Rng(seed + 77);
const proxies: HeldProxy[] = [];
const children: ChildProcess[] = [];
/** The real `ferry serve` on `dataDir`, killed after the tests if a test left it running. */
async function startServe(dataDir: string): Promise<Awaited<ReturnType<typeof startServeProcess>>> {
  const server = await startServeProcess(['--data-dir', dataDir]);
  children.push(server.child);
  return server;
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(proxies.map((p) => p.stop()));
});

describe('ferry serve after kill -9', () => {
  it('resumes runs that were copying on restart, and fails those whose inline credentials were only in memory, saying why', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-recover-'));
    const plain = {
      repo: `recover/plain-${rng.int(1e9)}`,
      image: buildImage({ layers: [rng.bytes(1 << 20), rng.bytes(5_000)] }),
    };
    const secured = { repo: `recover/secured-${rng.int(1e9)}`, image: buildImage({ layers: [rng.bytes(1 << 20)] }) };
    await push(src.url, plain.repo, 'v1', plain.image);
    await push(basic.url, secured.repo, 'v1', secured.image, basicHeader(basic.username, basic.password));
    const big = (image: typeof plain.image) => image.blobs.filter((b) => b.size === 1 << 20).map((b) => b.digest);
    const holdLayers = (layers: string[]) => (method: string, url: string) =>
      method === 'GET' && layers.some((l) => url.includes(`/blobs/${l}`));
    const plainSource = await startHeldProxy(src.url, holdLayers(big(plain.image)));
    const securedSource = await startHeldProxy(basic.url, holdLayers(big(secured.image)));
    proxies.push(plainSource, securedSource);

    const first = await startServe(dataDir);
    const resumable = await api(first.url, 'POST', '/v1/runs', {
      images: [`${plainSource.host}/${plain.repo}:v1`],
      destination: { registry: dst.host, prefix: 'recovered' },
    });
    const withInline = await api(first.url, 'POST', '/v1/runs', {
      images: [`${securedSource.host}/${secured.repo}:v1`],
      destination: { registry: dst.host, prefix: 'recovered' },
      sourceCredentials: { [securedSource.host]: { username: basic.username, password: basic.password } },
    });
    expect([resumable.status, withInline.status]).toEqual([202, 202]);
    // Both copies are streaming their layer when the server dies.
    await Promise.all([plainSource.waitHeld(1), securedSource.waitHeld(1)]);
    const during = (await api(first.url, 'GET', `/v1/runs/${(resumable.json as RunView).runId}`)).json as RunView;
    expect(Object.values(during.images)[0]!.status).toBe('in-progress');
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(readFileSync(join(dataDir, 'ferry-serve.lock'), 'utf8')).toMatch(
      new RegExp(`^${first.child.pid} [0-9a-f-]+\n$`),
    );
    plainSource.release();
    securedSource.release();

    const second = await startServe(dataDir);
    // The lock of the killed server is taken over.
    expect(readFileSync(join(dataDir, 'ferry-serve.lock'), 'utf8')).toMatch(
      new RegExp(`^${second.child.pid} [0-9a-f-]+\n$`),
    );
    expect(second.stderr).toMatch(/^Runs left in progress by the previous ferry serve: 1 resumed, 1 failed/m);

    const resumed = await waitForRun(second.url, (resumable.json as RunView).runId);
    expect(resumed).toMatchObject({ status: 'completed', imagesProcessed: 1, imagesFailed: 0 });
    expect(Object.values(resumed.images)[0]).toMatchObject({ status: 'completed', digest: plain.image.digest });
    expect(await remoteDigest(dst.url, `recovered/${plain.repo}`, 'v1')).toBe(plain.image.digest);
    expect(await skopeoDigest(`${dst.host}/recovered/${plain.repo}:v1`)).toBe(plain.image.digest);

    const lost = await waitForRun(second.url, (withInline.json as RunView).runId);
    const why = "ferry serve restarted; the run's inline credentials were held in memory only — start the run again";
    expect(lost).toMatchObject({ status: 'failed', message: why, imagesProcessed: 1, imagesFailed: 1 });
    expect(Object.values(lost.images)[0]).toMatchObject({ status: 'failed', message: `not copied: ${why}` });
    expect(await remoteDigest(dst.url, `recovered/${secured.repo}`, 'v1')).toBeUndefined();

    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    // A third start finds nothing left to recover.
    const third = await startServe(dataDir);
    expect(third.stderr).not.toMatch(/left in progress/);
    expect(await third.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
