import { describe, expect, it } from 'vitest';
import { route } from '../../../functions/handlers/api/router.js';
import type { ApiEvent } from '../../../functions/handlers/api/http.js';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import { silentLogger } from '../../../functions/oci/log.js';
import { ImageSetService } from '../../../functions/runs/image-sets.js';
import { RunService } from '../../../functions/runs/service.js';
import { SettingsService } from '../../../functions/runs/settings.js';
import { MemoryImageSets } from '../../support/memory-image-sets.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';

const config = {
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: { additionalImages: [{ name: 'registry.example/app:1' }] },
};

function setup() {
  const store = new MemoryImageSets();
  const service = new RunService({
    store: new MemoryRunStore(),
    vault: new MemoryVault(),
    workflow: { start: async () => 'x', stop: async () => undefined },
    settings: store,
  });
  const sets = { imageSets: new ImageSetService(store), settings: new SettingsService(store) };
  const call = async (httpMethod: string, path: string, body?: unknown, contentType = 'application/json') => {
    const [pathname = '', query = ''] = path.split('?');
    const event: ApiEvent = {
      httpMethod,
      path: pathname,
      queryStringParameters: Object.fromEntries(new URLSearchParams(query)),
      headers: { 'Content-Type': contentType },
      body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    };
    const res = await route(event, service, silentLogger, sets);
    return {
      status: res.statusCode,
      body: res.body === '' ? undefined : (JSON.parse(res.body) as Record<string, unknown>),
    };
  };
  return { store, call };
}

describe('image-set and settings routes', () => {
  it('PUT, GET, list and DELETE a set; 404 once deleted', async () => {
    const { call } = setup();
    expect(await call('PUT', '/v1/image-sets/nightly', { config })).toMatchObject({
      status: 200,
      body: { name: 'nightly', version: 1, config },
    });
    expect(await call('PUT', '/v1/image-sets/nightly/', { config })).toMatchObject({
      status: 200,
      body: { version: 2 },
    });
    expect(await call('GET', '/v1/image-sets/nightly')).toMatchObject({ status: 200, body: { version: 2 } });
    const list = await call('GET', '/v1/image-sets');
    expect(list.status).toBe(200);
    expect((list.body!.imageSets as { name: string }[]).map((s) => s.name)).toEqual(['nightly']);
    expect(await call('DELETE', '/v1/image-sets/nightly')).toEqual({ status: 204, body: undefined });
    expect(await call('GET', '/v1/image-sets/nightly')).toMatchObject({ status: 404 });
    expect(await call('DELETE', '/v1/image-sets/nightly')).toMatchObject({ status: 404 });
  });

  it('takes the YAML document itself with Content-Type: application/yaml', async () => {
    const { call } = setup();
    const yaml =
      'apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n    - name: registry.example/app:1\n';
    expect(await call('PUT', '/v1/image-sets/y', yaml, 'application/yaml; charset=utf-8')).toMatchObject({
      status: 200,
      body: { name: 'y', version: 1, config },
    });
  });

  it('answers a bad document with 400, its path, and stores nothing', async () => {
    const { call, store } = setup();
    const res = await call('PUT', '/v1/image-sets/bad', { config: { ...config, mirror: { additionalImages: [{}] } } });
    expect(res.status).toBe(400);
    expect(res.body!.path).toBe('mirror.additionalImages[0].name');
    expect(store.sets.size).toBe(0);
  });

  it.each([
    ['GET', '/v1/image-sets?limit=100', 200],
    ['GET', '/v1/image-sets?limit=0', 400],
    ['GET', '/v1/image-sets?limit=101', 400],
    ['GET', '/v1/image-sets?nextToken=bm9wZQ', 400],
    ['POST', '/v1/image-sets', 405],
    ['PATCH', '/v1/image-sets/a', 405],
    ['DELETE', '/v1/settings', 405],
    ['GET', '/v1/image-sets/a/b', 404],
    ['GET', '/v1/image-sets/..%2F..%2Fetc', 400],
    ['GET', `/v1/image-sets/${'a'.repeat(5000)}`, 400],
  ])('%s %s → %i', async (method, path, status) => {
    const { call } = setup();
    expect((await call(method, path)).status).toBe(status);
  });

  it('GET/PUT /v1/settings', async () => {
    const { call } = setup();
    expect(await call('GET', '/v1/settings')).toEqual({ status: 200, body: { defaultDestination: null } });
    expect(await call('PUT', '/v1/settings', { defaultDestination: { registry: 'r.example' } })).toEqual({
      status: 200,
      body: { defaultDestination: { registry: 'r.example', insecure: false } },
    });
    expect(await call('POST', '/v1/runs', { images: ['src.example/a:1'] })).toMatchObject({ status: 202 });
    expect((await call('PUT', '/v1/settings', { defaultDestination: 'x' })).status).toBe(400);
  });

  it('without set services the routes do not exist', async () => {
    const service = new RunService({
      store: new MemoryRunStore(),
      vault: new MemoryVault(),
      workflow: { start: async () => 'x', stop: async () => undefined },
    });
    const res = await route({ httpMethod: 'GET', path: '/v1/settings' }, service, silentLogger);
    expect(res.statusCode).toBe(404);
  });
});
