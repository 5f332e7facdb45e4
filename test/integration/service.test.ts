import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { basicHeader } from '../support/engine.js';
import { buildImage, buildIndex, type BuiltManifest, push, remoteDigest, Rng } from '../support/fixtures.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';
import { waitFor } from '../support/ports.js';

const { seed, src, dst, basic } = inject('registries');
const rng = new Rng(seed + 7);
let server: RunningServer;
const proxies: FaultProxy[] = [];
beforeAll(async () => {
  server = await startService();
});
afterAll(async () => {
  // Proxies first: a test that failed while holding requests must not keep the server from draining.
  await Promise.all(proxies.map((p) => p.stop()));
  await server.close();
});

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ns = (name: string) => `svc/${name}-${rng.int(1e9)}`;

describe('ferry serve: runs over HTTP', () => {
  it('runs 22 images (multi-arch, auth-required, one missing, one present) to failed with the right per-image statuses', async () => {
    const multi = buildIndex([
      { image: buildImage({ layers: [rng.bytes(20_000)] }), platform: { os: 'linux', architecture: 'amd64' } },
      {
        image: buildImage({ layers: [rng.bytes(20_000)], platform: { os: 'linux', architecture: 'arm64' } }),
        platform: { os: 'linux', architecture: 'arm64' },
      },
    ]);
    const base = rng.bytes(50_000);
    const prefix = ns('run');
    const images: { ref: string; digest?: string; dest: string }[] = [];
    const multiRepo = `${prefix}/multi`;
    await push(src.url, multiRepo, 'v1', multi);
    images.push({
      ref: `${src.host}/${multiRepo}:v1`,
      digest: multi.digest,
      dest: `${dst.host}/mirror/${multiRepo}:v1`,
    });
    for (let i = 0; i < 18; i++) {
      const image = buildImage({ layers: [base, rng.bytes(3_000)] });
      await push(src.url, `${prefix}/app${i}`, '1.0', image);
      images.push({
        ref: `${src.host}/${prefix}/app${i}:1.0`,
        digest: image.digest,
        dest: `${dst.host}/mirror/${prefix}/app${i}:1.0`,
      });
    }
    const secured = buildImage({ layers: [rng.bytes(8_000)] });
    await push(basic.url, `${prefix}/secured`, 'v1', secured, basicHeader(basic.username, basic.password));
    images.push({
      ref: `${basic.host}/${prefix}/secured:v1`,
      digest: secured.digest,
      dest: `${dst.host}/mirror/${prefix}/secured:v1`,
    });
    const present = buildImage({ layers: [rng.bytes(4_000)] });
    await push(src.url, `${prefix}/present`, 'v1', present);
    await push(dst.url, `mirror/${prefix}/present`, 'v1', present);
    images.push({
      ref: `${src.host}/${prefix}/present:v1`,
      digest: present.digest,
      dest: `${dst.host}/mirror/${prefix}/present:v1`,
    });
    images.push({ ref: `${src.host}/${prefix}/missing:v1`, dest: `${dst.host}/mirror/${prefix}/missing:v1` });

    const started = await api(server.url, 'POST', '/v1/runs', {
      images: images.map((i) => i.ref),
      destination: { registry: dst.host, prefix: 'mirror' },
      sourceCredentials: { [basic.host]: { username: basic.username, password: basic.password } },
    });
    expect(started.status).toBe(202);
    const { runId, status } = started.json as RunView;
    expect(status).toBe('in-progress');

    const run = await waitForRun(server.url, runId);
    expect(run).toMatchObject({ status: 'failed', totalImages: 22, imagesProcessed: 22, imagesFailed: 1 });
    expect(run.endTime).not.toBeNull();
    expect(Object.keys(run.images)).toHaveLength(22);
    for (const image of images) {
      const entry = run.images[image.dest]!;
      expect(entry.source).toBe(image.ref);
      if (image.digest === undefined) {
        expect(entry).toMatchObject({ status: 'failed' });
        expect(entry.message).toMatch(/not found/);
        continue;
      }
      expect(entry.status).toBe(image.ref.includes('/present:') ? 'skipped' : 'completed');
      expect(entry.digest).toBe(image.digest);
      // Each image took one invocation of the copy task (the run view shows the count, issue 11).
      expect(entry.invocations).toBe(1);
      // Timestamps are ISO 8601 and ordered: the image started before it ended.
      expect(new Date(entry.startTime!).toISOString()).toBe(entry.startTime);
      expect(new Date(entry.endTime!).toISOString()).toBe(entry.endTime);
      expect(entry.endTime! >= entry.startTime!).toBe(true);
      const [, repo, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(image.dest)!;
      expect(await remoteDigest(dst.url, repo!, tag!)).toBe(image.digest);
    }
    const copied = Object.values(run.images).reduce((n, i) => n + (i.bytes ?? 0), 0);
    expect(run.bytesCopied).toBe(copied);
    expect(copied).toBeGreaterThan(base.length);
    expect(JSON.stringify(run)).not.toContain(basic.password);
    // Credentials never reach run state: the whole table holds only a reference to the in-memory secret.
    const stored = await server.dumpTable();
    expect(stored).toContain(runId);
    expect(stored).not.toContain(basic.password);
    expect(stored).not.toContain(Buffer.from(`${basic.username}:${basic.password}`).toString('base64'));

    const mapping = await api(server.url, 'GET', `/v1/runs/${runId}/mapping`);
    expect(mapping.text.trim().split('\n')).toHaveLength(22);
    expect(mapping.text).toContain(`${images[0]!.ref}=${images[0]!.dest}\n`);
    expect(
      server.events.published.some((e) => e.runId === runId && e.status === 'failed' && e.imagesFailed === 1),
    ).toBe(true);
  });

  it('fails fast with a clear message when destination credentials are wrong, copying nothing', async () => {
    const image = buildImage({ layers: [rng.bytes(2_000)] });
    const repo = ns('preflight');
    await push(src.url, repo, 'v1', image);
    const started = await api(server.url, 'POST', '/v1/runs', {
      images: [`${src.host}/${repo}:v1`],
      destination: { registry: basic.host, credentials: { username: 'alice', password: 'wrong' } },
    });
    const run = await waitForRun(server.url, (started.json as RunView).runId);
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(new RegExp(`destination ${basic.host}/${repo}: .*(access denied|authentication)`));
    expect(Object.values(run.images)[0]).toMatchObject({ status: 'failed' });
    expect(Object.values(run.images)[0]!.message).toMatch(/^not copied: destination/);
    // Copying nothing: the destination (read with the right credentials) has no such image.
    expect(await remoteDigest(basic.url, repo, 'v1', basicHeader(basic.username, basic.password))).toBeUndefined();
  });

  it('shows per-image progress while running, and cancel stops new copies', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const proxy = await startFaultProxy(src.url, (r) =>
      r.method === 'GET' && r.url.includes('/blobs/') ? { kind: 'hold', until: gate } : undefined,
    );
    proxies.push(proxy);
    const prefix = ns('cancel');
    const refs: string[] = [];
    for (let i = 0; i < 15; i++) {
      await push(src.url, `${prefix}/app${i}`, 'v1', buildImage({ layers: [rng.bytes(2_000)] }));
      refs.push(`${proxy.host}/${prefix}/app${i}:v1`);
    }
    const started = await api(server.url, 'POST', '/v1/runs', { images: refs, destination: { registry: dst.host } });
    const { runId } = started.json as RunView;
    let during!: RunView;
    await waitFor(
      async () => {
        during = (await api(server.url, 'GET', `/v1/runs/${runId}`)).json as RunView;
        return Object.values(during.images).filter((i) => i.status === 'in-progress').length === 10;
      },
      'ten images in progress',
      400,
    );
    expect(during.status).toBe('in-progress');
    expect(Object.values(during.images).filter((i) => i.status === 'pending')).toHaveLength(5);

    const cancelled = await api(server.url, 'POST', `/v1/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ status: 'cancelled' });
    release();
    await server.drain();
    const run = (await api(server.url, 'GET', `/v1/runs/${runId}`)).json as RunView;
    expect(run.status).toBe('cancelled');
    // Every image is final: the five that never started, and the ten under way, are failed "cancelled".
    expect(Object.values(run.images).every((i) => i.status === 'failed' && i.message === 'cancelled')).toBe(true);
    const pending = Object.values(run.images).filter((i) => i.startTime === i.endTime);
    expect(pending).toHaveLength(5);
    const blobRequests = proxy.seen.filter((r) => r.method === 'GET' && r.url.includes('/blobs/'));
    const repoOf = (ref: string) => ref.slice(ref.indexOf('/') + 1, ref.lastIndexOf(':'));
    for (const image of pending)
      expect(blobRequests.some((r) => r.url.startsWith(`/v2/${repoOf(image.source)}/blobs/`))).toBe(false);
    const started10 = Object.values(run.images).filter((i) => !pending.includes(i));
    expect(started10).toHaveLength(10);
    // The ten under way stopped where the cancel found them (some before their first blob): test/integration/cancel.test.ts.
    const again = await api(server.url, 'POST', `/v1/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
  });

  it('streams the layers of as many images at once as the Map runs, as that many Lambdas would', async () => {
    const prefix = ns('wide');
    const width = 10; // the Map's MaxConcurrency (config default)
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const layers = new Set<string>();
    const held = new Set<string>();
    // Every layer GET is held until all ten are in flight together: with one blob limit shared
    // by the run's images (6), the seventh never arrives and the run never ends.
    const proxy = await startFaultProxy(src.url, (r) => {
      const digest = r.url.slice(r.url.lastIndexOf('/') + 1);
      if (r.method !== 'GET' || !layers.has(digest)) return undefined;
      held.add(digest);
      if (held.size === width) setTimeout(release, 0);
      return { kind: 'hold', until: gate };
    });
    proxies.push(proxy);
    const images = [];
    for (let i = 0; i < width; i++) {
      const image = buildImage({ layers: [rng.bytes(2_000)] });
      layers.add(image.blobs[1]!.digest);
      await push(src.url, `${prefix}/app${i}`, 'v1', image);
      images.push(image);
    }
    const started = await api(server.url, 'POST', '/v1/runs', {
      images: images.map((_, i) => `${proxy.host}/${prefix}/app${i}:v1`),
      destination: { registry: dst.host },
    });
    const run = await waitForRun(server.url, (started.json as RunView).runId);
    expect(run).toMatchObject({ status: 'completed', imagesProcessed: width, imagesFailed: 0 });
    expect(held.size).toBe(width);
    for (const [i, image] of images.entries())
      expect(await remoteDigest(dst.url, `${prefix}/app${i}`, 'v1')).toBe(image.digest);
  });

  it('stops at the first failure with failFast', async () => {
    const prefix = ns('failfast');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The other images' layer GETs are held until the run has stopped, so none of them can
    // finish and let the Map start another image before the failure is recorded.
    const layers = new Set<string>();
    const proxy = await startFaultProxy(src.url, (r) => {
      if (r.method !== 'GET' || !r.url.includes('/blobs/')) return undefined;
      if (r.url.includes(`${prefix}/app0/`))
        return { kind: 'respond', status: 403, body: '{"errors":[{"code":"DENIED","message":"blob access denied"}]}' };
      return layers.has(r.url.slice(r.url.lastIndexOf('/') + 1)) ? { kind: 'hold', until: gate } : undefined;
    });
    proxies.push(proxy);
    const refs: string[] = [];
    for (let i = 0; i < 14; i++) {
      const image = buildImage({ layers: [rng.bytes(1_000)] });
      layers.add(image.blobs[1]!.digest);
      await push(src.url, `${prefix}/app${i}`, 'v1', image);
      refs.push(`${proxy.host}/${prefix}/app${i}:v1`);
    }
    let runId: string;
    try {
      const started = await api(server.url, 'POST', '/v1/runs', {
        images: refs,
        destination: { registry: dst.host },
        failFast: true,
      });
      runId = (started.json as RunView).runId;
      const stopped = await waitForRun(server.url, runId, 1200);
      expect(stopped.status).toBe('failed');
    } finally {
      // Whatever happened, let the held copies go, so the server can drain and close.
      release();
    }
    await server.drain();
    const run = (await api(server.url, 'GET', `/v1/runs/${runId}`)).json as RunView;
    expect(run.status).toBe('failed');
    const entries = Object.entries(run.images);
    expect(entries.find(([d]) => d.includes('/app0:'))![1]).toMatchObject({ status: 'failed' });
    expect(entries.find(([d]) => d.includes('/app0:'))![1].message).toMatch(/denied/);
    const notCopied = entries.filter(([, i]) => i.message?.includes('failFast'));
    expect(notCopied.length).toBeGreaterThanOrEqual(4);
    expect(run.message).toBe('stopped at the first failure (failFast)');
    // No image started after the failure: the not-copied ones were never fetched.
    for (const [, image] of notCopied) {
      const repo = image.source.slice(image.source.indexOf('/') + 1, image.source.lastIndexOf(':'));
      expect(proxy.seen.some((r) => r.url.startsWith(`/v2/${repo}/blobs/`))).toBe(false);
    }
    expect(run.imagesProcessed).toBe(14);
  });

  it('copies the digest Plan resolved, even when the tag moves before the copy runs', async () => {
    const repo = ns('moving');
    const planned = buildImage({ layers: [rng.bytes(2_000)] });
    const later = buildImage({ layers: [rng.bytes(2_000)] });
    await push(src.url, repo, 'v1', planned);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const proxy = await startFaultProxy(src.url, (r) =>
      r.method === 'GET' && r.url.includes('/manifests/') ? { kind: 'hold', until: gate } : undefined,
    );
    proxies.push(proxy);
    const started = await api(server.url, 'POST', '/v1/runs', {
      images: [`${proxy.host}/${repo}:v1`],
      destination: { registry: dst.host },
    });
    // The copy asks for its manifest: the tag moves meanwhile.
    await waitFor(
      () => Promise.resolve(proxy.seen.some((r) => r.method === 'GET' && r.url.includes('/manifests/'))),
      'the copy to ask for the manifest',
      400,
    );
    await push(src.url, repo, 'v1', later);
    release();
    const run = await waitForRun(server.url, (started.json as RunView).runId);
    expect(run.status).toBe('completed');
    expect(Object.values(run.images)[0]).toMatchObject({ status: 'completed', digest: planned.digest });
    expect(await remoteDigest(dst.url, repo, 'v1')).toBe(planned.digest);
    expect(proxy.seen.find((r) => r.method === 'GET' && r.url.includes('/manifests/'))?.url).toBe(
      `/v2/${repo}/manifests/${planned.digest}`,
    );
  });

  it('returns the same run for a repeated Idempotency-Key', async () => {
    const repo = ns('idem');
    await push(src.url, repo, 'v1', buildImage({ layers: [rng.bytes(1_000)] }));
    const body = { images: [`${src.host}/${repo}:v1`], destination: { registry: dst.host } };
    const key = `key-${rng.int(1e9)}`;
    const first = await api(server.url, 'POST', '/v1/runs', body, { 'Idempotency-Key': key });
    const second = await api(server.url, 'POST', '/v1/runs', body, { 'Idempotency-Key': key });
    expect(second.status).toBe(202);
    expect((second.json as RunView).runId).toBe((first.json as RunView).runId);
    const third = await api(server.url, 'POST', '/v1/runs', body, { 'Idempotency-Key': `${key}-other` });
    expect((third.json as RunView).runId).not.toBe((first.json as RunView).runId);
    await waitForRun(server.url, (first.json as RunView).runId);
    await waitForRun(server.url, (third.json as RunView).runId);
  });

  it('plans without copying on dryRun: what each image would move, read-only', async () => {
    const prefix = ns('dry');
    const shared = rng.bytes(40_000);
    const fresh = buildImage({ layers: [shared, rng.bytes(9_000)] });
    const partly = buildImage({ layers: [shared, rng.bytes(5_000)] });
    const current = buildImage({ layers: [rng.bytes(3_000)] });
    const multi = buildIndex([
      { image: buildImage({ layers: [rng.bytes(7_000)] }), platform: { os: 'linux', architecture: 'amd64' } },
      {
        image: buildImage({ layers: [rng.bytes(6_000)], platform: { os: 'linux', architecture: 'arm64' } }),
        platform: { os: 'linux', architecture: 'arm64' },
      },
    ]);
    await push(src.url, `${prefix}/fresh`, 'v1', fresh);
    await push(src.url, `${prefix}/partly`, 'v1', partly);
    await push(src.url, `${prefix}/current`, 'v1', current);
    await push(src.url, `${prefix}/multi`, 'v1', multi);
    await push(dst.url, `${prefix}/current`, 'v1', current);
    // The destination repository of `partly` already holds the shared layer (under another tag).
    await push(dst.url, `${prefix}/partly`, 'old', buildImage({ layers: [shared] }));
    const started = await api(server.url, 'POST', '/v1/runs', {
      images: ['fresh', 'partly', 'current', 'multi'].map((n) => `${src.host}/${prefix}/${n}:v1`),
      destination: { registry: dst.host },
      dryRun: true,
    });
    const run = await waitForRun(server.url, (started.json as RunView).runId);
    expect(run.status).toBe('completed');
    const image = (name: string) => run.images[`${dst.host}/${prefix}/${name}:v1`]!;
    const size = (i: BuiltManifest) => i.blobs.reduce((n, b) => n + b.size, 0);
    expect(image('fresh')).toMatchObject({
      status: 'skipped',
      digest: fresh.digest,
      bytes: size(fresh),
      message: `dry run: would copy 3 blobs (${kib(size(fresh))}), 0 already there; 1 manifest GETs from the source`,
    });
    // Config and own layer missing; the shared layer is there.
    const partlyBytes = partly.blobs[0]!.size + partly.blobs[2]!.size;
    expect(image('partly')).toMatchObject({
      status: 'skipped',
      bytes: partlyBytes,
      message: `dry run: would copy 2 blobs (${kib(partlyBytes)}), 1 already there; 1 manifest GETs from the source`,
    });
    expect(image('current')).toMatchObject({
      status: 'skipped',
      digest: current.digest,
      bytes: 0,
      message: 'dry run: destination is up to date',
    });
    const multiBytes = multi.children.reduce((n, c) => n + size(c), 0);
    expect(image('multi')).toMatchObject({
      status: 'skipped',
      digest: multi.digest,
      bytes: multiBytes,
      message: `dry run: would copy 4 blobs (${kib(multiBytes)}), 0 already there; 3 manifest GETs from the source`,
    });
    expect(run.message).toBe(
      `dry run: 3 of 4 images would copy, ${kib(size(fresh) + partlyBytes + multiBytes)} at most`,
    );
    expect(run.bytesCopied).toBe(size(fresh) + partlyBytes + multiBytes);
    // Read-only: nothing was pushed.
    for (const name of ['fresh', 'partly', 'multi'])
      expect(await remoteDigest(dst.url, `${prefix}/${name}`, 'v1')).toBeUndefined();
  });

  it('lists runs newest first with pagination', async () => {
    const first = await api(server.url, 'GET', '/v1/runs?limit=2');
    const page = first.json as { runs: RunView[]; nextToken?: string };
    expect(page.runs).toHaveLength(2);
    expect(page.runs[0]!.startTime >= page.runs[1]!.startTime).toBe(true);
    expect(page.nextToken).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]+$/));
    const next = (await api(server.url, 'GET', `/v1/runs?limit=2&nextToken=${page.nextToken}`)).json as {
      runs: RunView[];
    };
    expect(next.runs[0]!.runId).not.toBe(page.runs[0]!.runId);
    expect((await api(server.url, 'GET', '/v1/runs?limit=0')).status).toBe(400);
    expect((await api(server.url, 'GET', '/v1/runs?nextToken=garbage')).status).toBe(400);
    // Well-formed tokens of the wrong shape are 400s too (not the engine's ValidationException as a 500).
    for (const forged of [
      {},
      { pk: 'x' },
      { pk: 'RUN#x', sk: 'RUN', gsi1pk: 'RUNS', gsi1sk: 'x', extra: 'y' },
      { pk: 1 },
    ]) {
      const res = await api(
        server.url,
        'GET',
        `/v1/runs?nextToken=${Buffer.from(JSON.stringify(forged)).toString('base64url')}`,
      );
      expect(res.status).toBe(400);
      expect((res.json as { message: string }).message).toBe(
        'nextToken: not a token this API returned (pass the nextToken of the previous page unchanged)',
      );
    }
  });
});

describe('ferry serve: bad input', () => {
  const valid = { images: ['docker.io/library/busybox:1.36'], destination: { registry: 'registry.example:5000' } };
  const cases: [string, string | object, RegExp][] = [
    ['empty body', '', /request body is required/],
    ['not JSON', '{"images": [', /not valid JSON/],
    ['not an object', '[1,2]', /body: .*expected object/],
    ['missing images', { destination: valid.destination }, /^images: /],
    ['empty images', { ...valid, images: [] }, /images: needs at least one image/],
    ['images of the wrong type', { ...valid, images: 'busybox' }, /^images: .*expected array/],
    ['a number among images', { ...valid, images: ['busybox', 7] }, /^images\[1\]: .*expected string/],
    [
      'malformed reference',
      { ...valid, images: ['busybox', 'Upper/Case'] },
      /^images\[1\]: invalid reference "Upper\/Case": repository names must be lowercase/,
    ],
    ['bad digest', { ...valid, images: ['busybox@sha256:abc'] }, /^images\[0\]: .*64 lowercase hex/],
    [
      'unknown registry scheme',
      { ...valid, images: ['ftp://host/repo:1'] },
      /^images\[0\]: .*unknown transport "ftp:\/\/"/,
    ],
    ['oci layout in the service', { ...valid, images: ['oci:/tmp/x:1'] }, /^images\[0\]: .* not a registry image/],
    ['missing destination', { images: valid.images }, /^destination: /],
    [
      'bad destination host',
      { ...valid, destination: { registry: 'bad host!' } },
      /^destination\.registry: must be a registry host/,
    ],
    ['bad prefix', { ...valid, destination: { ...valid.destination, prefix: 'Mirror' } }, /^destination\.prefix: /],
    [
      'insecure of the wrong type',
      { ...valid, destination: { ...valid.destination, insecure: 'yes' } },
      /^destination\.insecure: .*expected boolean/,
    ],
    [
      'half a credential',
      { ...valid, destination: { ...valid.destination, credentials: { username: 'u' } } },
      /^destination\.credentials: must be/,
    ],
    [
      'bad secret ARN',
      { ...valid, sourceCredentials: { 'docker.io': { secretArn: 'nope' } } },
      /^sourceCredentials\.docker\.io(\.secretArn)?: must be/,
    ],
    ['bad platform', { ...valid, platforms: ['linux'] }, /^platforms\[0\]: .*OS\/ARCH/],
    ['failFast of the wrong type', { ...valid, failFast: 'true' }, /^failFast: .*expected boolean/],
    ['unknown field', { ...valid, imagez: [] }, /^body: .*imagez/],
    [
      'two images to one destination',
      { ...valid, images: ['busybox:1', 'docker.io/library/busybox:1'] },
      /two images map to the destination/,
    ],
    [
      'oversized body',
      {
        ...valid,
        images: Array.from({ length: 40_000 }, (_, i) => `registry.example/some/long/repository/name/${i}:tag`),
      },
      /larger than 1048576 bytes/,
    ],
  ];

  it.each(cases)('%s → 400 naming the problem, nothing written', async (_name, body, message) => {
    const before = (await api(server.url, 'GET', '/v1/runs?limit=100')).json as { runs: RunView[] };
    const res = await api(server.url, 'POST', '/v1/runs', body);
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(message);
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    const after = (await api(server.url, 'GET', '/v1/runs?limit=100')).json as { runs: RunView[] };
    expect(after.runs.map((r) => r.runId)).toEqual(before.runs.map((r) => r.runId));
  });

  it('answers unknown routes, methods and runs clearly', async () => {
    expect((await api(server.url, 'GET', '/v1/nothing')).status).toBe(404);
    expect((await api(server.url, 'DELETE', '/v1/runs')).status).toBe(405);
    const missing = await api(server.url, 'GET', '/v1/runs/0f0e0d0c-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect((missing.json as { message: string }).message).toMatch(/not found/);
  });
});

describe('ferry serve: a run of 1,000 images', () => {
  it('is accepted, planned and run without hitting item or payload limits', async () => {
    const repo = ns('thousand');
    const image = buildImage({ layers: [rng.bytes(500)] });
    await push(src.url, repo, 't0', image);
    await Promise.all(
      Array.from({ length: 999 }, (_, i) =>
        fetch(`${src.url}/v2/${repo}/manifests/t${i + 1}`, {
          method: 'PUT',
          headers: { 'content-type': image.mediaType },
          body: image.bytes,
        }).then((r) => r.arrayBuffer()),
      ),
    );
    const images = Array.from({ length: 1000 }, (_, i) => `${src.host}/${repo}:t${i}`);
    const started = await api(server.url, 'POST', '/v1/runs', {
      images,
      destination: { registry: dst.host, prefix: 'big' },
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ totalImages: 1000, status: 'in-progress' });
    const run = await waitForRun(server.url, (started.json as RunView).runId, 8000);
    expect(run).toMatchObject({ status: 'completed', totalImages: 1000, imagesProcessed: 1000, imagesFailed: 0 });
    expect(Object.values(run.images).every((i) => i.status === 'completed' && i.digest === image.digest)).toBe(true);
    expect(await remoteDigest(dst.url, `big/${repo}`, 't999')).toBe(image.digest);
  }, 240_000);
});
