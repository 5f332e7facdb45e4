import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../../functions/handlers/api/http.js';
import { route } from '../../../functions/handlers/api/router.js';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import { silentLogger } from '../../../functions/oci/log.js';
import { ImageSetService } from '../../../functions/runs/image-sets.js';
import { RunService } from '../../../functions/runs/service.js';
import { SettingsService } from '../../../functions/runs/settings.js';
import { MemoryImageSets } from '../../support/memory-image-sets.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';

// The API takes documents from callers it does not trust: `mirror.helm.local` (a path on the
// server) is refused with a 400 naming it; chart repositories are accepted.

const config = (helm: object): object => ({
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: { helm },
});

async function put(body: object): Promise<{ status: number; body: Record<string, unknown>; stored: number }> {
  const store = new MemoryImageSets();
  const service = new RunService({
    store: new MemoryRunStore(),
    vault: new MemoryVault(),
    workflow: { start: async () => 'x', stop: async () => undefined },
    settings: store,
  });
  const sets = { imageSets: new ImageSetService(store), settings: new SettingsService(store) };
  const event: ApiEvent = {
    httpMethod: 'PUT',
    path: '/v1/image-sets/charts',
    queryStringParameters: {},
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
  const res = await route(event, service, silentLogger, sets);
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, stored: store.sets.size };
}

describe('PUT /v1/image-sets with mirror.helm', () => {
  it('refuses local charts with 400 at mirror.helm.local, storing nothing', async () => {
    const res = await put({ config: config({ local: [{ name: 'x', path: '/etc/passwd' }] }) });
    expect([res.status, res.body.path, res.stored]).toEqual([400, 'mirror.helm.local', 0]);
  });

  it('accepts chart repositories', async () => {
    const helm = {
      repositories: [{ name: 'r', url: 'https://charts.test/r', charts: [{ name: 'a', version: '1.0.0' }] }],
    };
    const res = await put({ config: config(helm) });
    expect([res.status, res.stored]).toEqual([200, 1]);
  });
});
