import { afterAll, describe, expect, inject, it } from 'vitest';
import { anonymous, StaticCredentials } from '../../functions/oci/auth/credentials.js';
import { parseDigest } from '../../functions/oci/digest.js';
import { DigestMismatchError } from '../../functions/oci/errors.js';
import { Transport } from '../../functions/oci/transport.js';
import { createCopyEngine } from '../../functions/mirror/engine.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { type Fault, type FaultProxy, type SeenRequest, startFaultProxy } from '../support/fault-proxy.js';
import { waitFor } from '../support/ports.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 4);
const repo = (name: string): string => `faults/${name}-${rng.int(1e9)}`;
const proxies: FaultProxy[] = [];
const transports: Transport[] = [];
afterAll(async () => {
  await Promise.all([...proxies.map((p) => p.stop()), ...transports.map((t) => t.close())]);
});

async function proxy(
  upstream: string,
  decide?: (req: SeenRequest, count: number) => Fault | undefined,
): Promise<FaultProxy> {
  const p = await startFaultProxy(upstream, decide);
  proxies.push(p);
  return p;
}

interface EngineOptions {
  patch?: boolean;
  destinationCredentials?: StaticCredentials;
  sourceCredentials?: StaticCredentials;
  streamThreshold?: number;
  blobConcurrency?: number;
}

function makeEngine(options: EngineOptions = {}) {
  const engine = createCopyEngine({
    transport: {
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      ...(options.streamThreshold === undefined ? {} : { streamThreshold: options.streamThreshold }),
    },
    sourceCredentials: options.sourceCredentials ?? anonymous,
    destinationCredentials: options.destinationCredentials ?? anonymous,
    uploadMode: () => (options.patch ? 'patch' : 'put'),
    blobs: {
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 },
      ...(options.blobConcurrency === undefined ? {} : { concurrency: options.blobConcurrency }),
    },
  });
  transports.push(engine.transport);
  return (from: string, fromRepo: string, to: string, toRepo: string, tag = 'v1') =>
    engine.copier.copy(
      engine.registries.image({ kind: 'registry', ref: { registry: from, repository: fromRepo, tag } }, 'source'),
      engine.registries.image({ kind: 'registry', ref: { registry: to, repository: toRepo, tag } }, 'destination'),
    );
}

const isBlobGet = (r: SeenRequest, digest: string) => r.method === 'GET' && r.url.endsWith(`/blobs/${digest}`);

// Every fault twice: blob bodies through undici, and through the pooled stream exchange (threshold 0).
describe.each([
  ['undici', Infinity],
  ['pooled streams', 0],
] as const)('protocol faults a real registry will not produce on demand (blobs via %s)', (_via, streamThreshold) => {
  const engine = (options: EngineOptions = {}) => makeEngine({ ...options, streamThreshold });
  it('retries 429 (Retry-After in seconds and as an HTTP date) and 5xx bursts', async () => {
    const image = buildImage({ layers: [rng.bytes(50_000)] });
    const name = repo('throttled');
    await push(src.url, name, 'v1', image);
    let manifestGets = 0;
    let manifestPuts = 0;
    const source = await proxy(src.url, (r) => {
      if (r.method !== 'GET' || !r.url.includes('/manifests/')) return undefined;
      manifestGets++;
      if (manifestGets === 1)
        return {
          kind: 'respond',
          status: 429,
          headers: { 'retry-after': '0' },
          body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
        };
      if (manifestGets === 2)
        return { kind: 'respond', status: 429, headers: { 'retry-after': new Date(Date.now() - 1000).toUTCString() } };
      return undefined;
    });
    const destination = await proxy(dst.url, (r) => {
      if (r.method !== 'PUT' || !r.url.includes('/manifests/')) return undefined;
      return ++manifestPuts <= 3 ? { kind: 'respond', status: [502, 503, 500][manifestPuts - 1]! } : undefined;
    });
    const result = await engine()(source.host, name, destination.host, name);
    expect(result.digest).toBe(image.digest);
    expect(manifestGets).toBe(3);
    expect(manifestPuts).toBe(4);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });

  it('gives up on a registry that keeps failing, with the status in the error', async () => {
    const image = buildImage({ layers: [rng.bytes(1_000)] });
    const name = repo('down');
    await push(src.url, name, 'v1', image);
    const source = await proxy(src.url, (r) =>
      r.url.includes('/manifests/') ? { kind: 'respond', status: 503 } : undefined,
    );
    await expect(engine()(source.host, name, dst.host, name)).rejects.toMatchObject({ status: 503, code: 'HTTP_503' });
    expect(source.seen.filter((r) => r.url.includes('/manifests/'))).toHaveLength(5);
  });

  it('resumes a blob with Range after the connection resets mid-body', async () => {
    const big = rng.bytes(3 << 20);
    const image = buildImage({ layers: [big] });
    const layer = image.blobs[1]!;
    const name = repo('reset');
    await push(src.url, name, 'v1', image);
    let gets = 0;
    const source = await proxy(src.url, (r) =>
      isBlobGet(r, layer.digest) && ++gets === 1 ? { kind: 'reset', bytes: 1 << 20 } : undefined,
    );
    const result = await engine()(source.host, name, dst.host, name);
    expect(result.blobs.copied).toBe(2);
    const ranged = source.seen.filter((r) => isBlobGet(r, layer.digest));
    expect(ranged).toHaveLength(2);
    expect(ranged[1]!.headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(ranged[1]!.headers.range!)![1])).toBeGreaterThan(0);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });

  it('resumes a blob whose body ends early without an error (truncated)', async () => {
    const image = buildImage({ layers: [rng.bytes(2 << 20)] });
    const layer = image.blobs[1]!;
    const name = repo('truncated');
    await push(src.url, name, 'v1', image);
    let gets = 0;
    const source = await proxy(src.url, (r) =>
      isBlobGet(r, layer.digest) && ++gets === 1 ? { kind: 'truncate', bytes: 700_000 } : undefined,
    );
    await engine()(source.host, name, dst.host, name);
    const ranged = source.seen.filter((r) => isBlobGet(r, layer.digest));
    expect(ranged[1]!.headers.range).toBe('bytes=700000-');
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });

  it('aborts the upload on a digest mismatch with a typed error and commits nothing', async () => {
    const image = buildImage({ layers: [rng.bytes(300_000)] });
    const layer = image.blobs[1]!;
    const name = repo('corrupt');
    await push(src.url, name, 'v1', image);
    const source = await proxy(src.url, (r) =>
      isBlobGet(r, layer.digest) ? { kind: 'corrupt', at: 1234 } : undefined,
    );
    const destination = await proxy(dst.url);
    const error = await engine()(source.host, name, destination.host, name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as Error).name).toBe('DigestMismatchError');
    expect(String(error)).toContain(layer.digest);
    const head = await fetch(`${dst.url}/v2/${name}/blobs/${layer.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await remoteDigest(dst.url, name, 'v1')).toBeUndefined();
    expect(
      destination.seen.filter((r) => r.method === 'DELETE' && r.url.includes('/blobs/uploads/')).length,
    ).toBeGreaterThan(0);
    expect(
      destination.seen.some(
        (r) =>
          r.method === 'PUT' &&
          r.url.includes(`digest=${encodeURIComponent(layer.digest)}`) &&
          r.url.includes('manifests'),
      ),
    ).toBe(false);
  });

  it('uploads with one streamed PATCH when the registry answers 201 instead of 202 (as ECR does)', async () => {
    const image = buildImage({ layers: [rng.bytes(400_000)] });
    const name = repo('ecr-patch');
    await push(src.url, name, 'v1', image);
    const destination = await proxy(dst.url, (r) =>
      r.method === 'PATCH' ? { kind: 'rewrite', status: 201 } : undefined,
    );
    const result = await engine({ patch: true })(src.host, name, destination.host, name);
    expect(result.blobs.copied).toBe(2);
    expect(destination.seen.filter((r) => r.method === 'PATCH')).toHaveLength(2);
    expect(destination.seen.filter((r) => r.method === 'PUT' && r.url.includes('digest='))).toHaveLength(2);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });

  it('never forwards Authorization to a cross-host upload Location or blob redirect', async () => {
    const image = buildImage({ layers: [rng.bytes(100_000)] });
    const name = repo('cross-host');
    await push(src.url, name, 'v1', image);
    const layer = image.blobs[1]!;
    const requireAuth = (r: SeenRequest): Fault | undefined =>
      r.headers.authorization === undefined
        ? {
            kind: 'respond',
            status: 401,
            headers: { 'www-authenticate': 'Basic realm="fake"' },
            body: '{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}',
          }
        : undefined;
    const storage = await proxy(dst.url);
    const sourceStorage = await proxy(src.url);
    const front = await proxy(
      dst.url,
      (r) =>
        requireAuth(r) ??
        (r.method === 'POST' ? { kind: 'rewrite', location: (l) => l.replace(front.host, storage.host) } : undefined),
    );
    const sourceFront = await proxy(
      src.url,
      (r) =>
        requireAuth(r) ??
        (isBlobGet(r, layer.digest)
          ? { kind: 'respond', status: 307, headers: { location: `${sourceStorage.url}${r.url}` } }
          : undefined),
    );
    const creds = (host: string) =>
      new StaticCredentials(new Map([[host, { kind: 'basic' as const, username: 'u', password: 'secret' }]]));
    const result = await engine({
      destinationCredentials: creds(front.host),
      sourceCredentials: creds(sourceFront.host),
    })(sourceFront.host, name, front.host, name);
    expect(result.blobs.copied).toBe(2);
    expect(storage.seen.filter((r) => r.method === 'PUT').length).toBe(2);
    expect(storage.seen.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(sourceStorage.seen.filter((r) => isBlobGet(r, layer.digest))).toHaveLength(1);
    expect(sourceStorage.seen.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(front.seen.some((r) => r.headers.authorization !== undefined)).toBe(true);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });
});

describe('connections', () => {
  it('keeps connections alive, HEADs included: a copy of many small blobs reuses one connection per host', async () => {
    const image = buildImage({ layers: Array.from({ length: 12 }, () => rng.bytes(2_000)) });
    const name = repo('keepalive');
    await push(src.url, name, 'v1', image);
    const source = await proxy(src.url);
    const destination = await proxy(dst.url);
    const result = await makeEngine({ blobConcurrency: 1 })(source.host, name, destination.host, name);
    expect(result.blobs.copied).toBe(13);
    // 13 blob GETs and the manifest at the source; HEAD, POST and PUT per blob, then the manifest, at the destination.
    expect(source.seen.length).toBeGreaterThanOrEqual(14);
    expect(destination.seen.filter((r) => r.method === 'HEAD').length).toBeGreaterThanOrEqual(13);
    expect(destination.seen.length).toBeGreaterThanOrEqual(40);
    // Per host: the two scheme probes (https, then http) and one connection for everything after.
    expect(source.connections()).toBeLessThanOrEqual(4);
    expect(destination.connections()).toBeLessThanOrEqual(4);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });
});

describe('closing', () => {
  it('stops a request waiting out a Retry-After when the transport closes, without sending it again', async () => {
    const name = repo('closing');
    const source = await proxy(src.url, (r) =>
      r.url.includes('/manifests/') ? { kind: 'respond', status: 503, headers: { 'retry-after': '50' } } : undefined,
    );
    const transport = new Transport({ retry: { maxRetryAfterMs: 60_000 } });
    const { registries } = createCopyEngine({
      transport,
      sourceCredentials: anonymous,
      destinationCredentials: anonymous,
    });
    const pending = registries
      .repository({ kind: 'registry', ref: { registry: source.host, repository: name, tag: 'v1' } }, 'source')
      .getManifest('v1');
    const outcome = pending.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await waitFor(
      () => Promise.resolve(source.seen.some((r) => r.url.includes('/manifests/'))),
      'the first manifest request',
    );
    await transport.close();
    const error = await outcome;
    expect(String(error)).toMatch(/transport was closed/);
    expect((error as { retryable?: boolean }).retryable).toBe(false);
    expect(source.seen.filter((r) => r.url.includes('/manifests/'))).toHaveLength(1);
  });
});

describe('the SSRF guard (deployed service)', () => {
  it('refuses loopback registries by address and by name, at connect time, unless allow-listed', async () => {
    const { NetworkGuard } = await import('../../functions/oci/network-guard.js');
    const image = buildImage({ layers: [rng.bytes(1_000)] });
    const name = repo('guarded');
    await push(src.url, name, 'v1', image);
    const guarded = new Transport({ guard: new NetworkGuard(), retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    transports.push(guarded);
    const { registries } = createCopyEngine({
      transport: guarded,
      sourceCredentials: anonymous,
      destinationCredentials: anonymous,
    });
    const byAddress = registries.repository(
      { kind: 'registry', ref: { registry: src.host, repository: name, tag: 'v1' } },
      'source',
    );
    await expect(byAddress.getManifest('v1')).rejects.toThrow(
      /refused: 127\.0\.0\.1 .*loopback, link-local or private/,
    );
    const port = src.host.split(':')[1];
    const byName = registries.repository(
      { kind: 'registry', ref: { registry: `localhost:${port}`, repository: name, tag: 'v1' } },
      'source',
    );
    await expect(byName.getManifest('v1')).rejects.toThrow(/refused: localhost resolves to (127\.0\.0\.1|::1)/);

    // Blob bodies on the pooled stream path go through the same guard.
    const streaming = new Transport({ guard: new NetworkGuard(), streamThreshold: 0, retry: { attempts: 1 } });
    transports.push(streaming);
    const blobs = createCopyEngine({
      transport: streaming,
      sourceCredentials: anonymous,
      destinationCredentials: anonymous,
    }).registries;
    const layer = {
      mediaType: image.blobs[1]!.mediaType,
      digest: parseDigest(image.blobs[1]!.digest),
      size: image.blobs[1]!.size,
    };
    await expect(
      blobs
        .repository({ kind: 'registry', ref: { registry: src.host, repository: name, tag: 'v1' } }, 'source')
        .openBlob(layer, 0),
    ).rejects.toThrow(/refused: 127\.0\.0\.1 .*loopback, link-local or private/);
    // By name, the stream path's own connect-time lookup refuses it.
    await expect(
      streaming.send({
        method: 'GET',
        url: new URL(`http://localhost:${port}/v2/${name}/blobs/${layer.digest}`),
        streamBytes: layer.size,
      }),
    ).rejects.toThrow(/refused: localhost resolves to (127\.0\.0\.1|::1)/);

    const allowed = new Transport({ guard: new NetworkGuard(['127.0.0.0/8']) });
    transports.push(allowed);
    const ok = createCopyEngine({
      transport: allowed,
      sourceCredentials: anonymous,
      destinationCredentials: anonymous,
    }).registries.repository({ kind: 'registry', ref: { registry: src.host, repository: name, tag: 'v1' } }, 'source');
    expect((await ok.getManifest('v1')).digest).toBe(image.digest);
  });
});
