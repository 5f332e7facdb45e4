import { createHash } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseDigest } from '../../functions/oci/digest.js';
import { ErrorNames } from '../../functions/oci/errors.js';
import type { RegistryRepository } from '../../functions/oci/registry-repository.js';
import { createEngine } from '../support/engine.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { Rng } from '../support/fixtures.js';

const { seed, dst } = inject('registries');
const rng = new Rng(seed + 12);
const engine = createEngine();
const proxies: FaultProxy[] = [];
afterAll(async () => {
  await Promise.all([engine.close(), ...proxies.map((p) => p.stop())]);
});

function repository(host: string, name: string): RegistryRepository {
  const repo = engine.registries.image(
    { kind: 'registry', ref: { registry: host, repository: name, tag: 'v1' } },
    'destination',
  ).repository;
  return repo as RegistryRepository;
}

describe('chunked upload sessions against docker-registry (distribution spec: pushing a blob in chunks)', () => {
  it('starts, appends parts with Content-Range, reads the offset back, and commits', async () => {
    const proxy = await startFaultProxy(dst.url);
    proxies.push(proxy);
    const name = `sessions/ok-${rng.int(1e9)}`;
    const uploads = repository(proxy.host, name).uploads;
    const bytes = rng.bytes(3 * 1024 * 1024 + 11);
    const digest = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    let state = await uploads.start();
    expect(state).toMatchObject({ offset: 0 });
    expect(state.location.startsWith(`/v2/${name}/blobs/uploads/`)).toBe(true);
    state = await uploads.append(state, bytes.subarray(0, 1 << 20));
    state = await uploads.append(state, bytes.subarray(1 << 20, 2 << 20));
    expect(state.offset).toBe(2 << 20);
    // What another process would do: ask the registry where the session stands.
    const status = await uploads.status(state.location);
    expect(status?.offset).toBe(2 << 20);
    state = await uploads.append(status!, bytes.subarray(2 << 20));
    await uploads.commit(state, digest);
    const patches = proxy.seen.filter((r) => r.method === 'PATCH').map((r) => r.headers['content-range']);
    expect(patches).toEqual([`0-${(1 << 20) - 1}`, `${1 << 20}-${(2 << 20) - 1}`, `${2 << 20}-${bytes.length - 1}`]);
    const res = await fetch(`${dst.url}/v2/${name}/blobs/${digest}`);
    expect(
      createHash('sha256')
        .update(Buffer.from(await res.arrayBuffer()))
        .digest('hex'),
    ).toBe(digest.slice(7));
  });

  it('answers a part at the wrong offset (416) and a session the registry does not know (404) with UploadUnknownError', async () => {
    const name = `sessions/bad-${rng.int(1e9)}`;
    const uploads = repository(dst.host, name).uploads;
    const state = await uploads.append(await uploads.start(), rng.bytes(1000));
    const wrong = await uploads.append({ ...state, offset: 500 }, rng.bytes(10)).catch((e: unknown) => e);
    expect((wrong as Error).name).toBe(ErrorNames.uploadUnknown);
    const gone = `/v2/${name}/blobs/uploads/00000000-0000-0000-0000-000000000000`;
    expect(await uploads.status(gone)).toBeUndefined();
    const lost = await uploads.append({ location: gone, offset: 0 }, rng.bytes(10)).catch((e: unknown) => e);
    expect((lost as Error).name).toBe(ErrorNames.uploadUnknown);
    expect((lost as Error).message).toContain(`${dst.host}/${name}`);
  });

  it('takes a session whose signed state no longer checks out (400 BLOB_UPLOAD_INVALID) as lost', async () => {
    const proxy = await startFaultProxy(dst.url, (r) =>
      r.method === 'GET' && r.url.includes('/blobs/uploads/')
        ? { kind: 'respond', status: 400, body: '{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}' }
        : undefined,
    );
    proxies.push(proxy);
    const uploads = repository(proxy.host, `sessions/invalid-${rng.int(1e9)}`).uploads;
    const state = await uploads.append(await uploads.start(), rng.bytes(1000));
    expect(await uploads.status(state.location)).toBeUndefined();
  });
});
