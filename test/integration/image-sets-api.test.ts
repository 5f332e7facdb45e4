import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { noDefaultDestinationMessage } from '../../functions/runs/service.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 91);
let server: RunningServer;
beforeAll(async () => {
  server = await startService();
});
afterAll(() => server.close());

const config = {
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: {
    additionalImages: [{ name: 'registry.example/app:1' }],
    repositories: [{ name: 'registry.example/team/web', tags: { semver: '>=1.2.0', latest: 3 } }],
  },
};
const yamlDocument = `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: registry.example/app:1
  repositories:
    - name: registry.example/team/web
      tags:
        semver: '>=1.2.0'
        latest: 3
`;
const password = `pw-${rng.int(1e9)}-never-stored`;

async function setNames(): Promise<string[]> {
  const res = await api(server.url, 'GET', '/v1/image-sets?limit=100');
  expect(res.status).toBe(200);
  return (res.json as { imageSets: { name: string }[] }).imageSets.map((s) => s.name);
}

describe('ferry serve: image sets and settings over HTTP', () => {
  it('PUTs, GETs, lists and DELETEs a set; each PUT makes the next version', async () => {
    const put = await api(server.url, 'PUT', '/v1/image-sets/crud', {
      config,
      destination: { registry: dst.host, prefix: 'sets' },
      schedule: 'rate(6 hours)',
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      name: 'crud',
      version: 1,
      config,
      destination: { registry: dst.host, prefix: 'sets', insecure: false },
      schedule: 'rate(6 hours)',
    });
    const again = await api(server.url, 'PUT', '/v1/image-sets/crud', { config });
    expect(again.json).toMatchObject({ name: 'crud', version: 2, config });
    const got = await api(server.url, 'GET', '/v1/image-sets/crud');
    expect(got.status).toBe(200);
    expect(got.json).toEqual(again.json);
    expect(await setNames()).toContain('crud');
    expect((await api(server.url, 'DELETE', '/v1/image-sets/crud')).status).toBe(204);
    expect((await api(server.url, 'GET', '/v1/image-sets/crud')).status).toBe(404);
    expect((await api(server.url, 'DELETE', '/v1/image-sets/crud')).status).toBe(404);
    expect(await setNames()).not.toContain('crud');
  });

  it('pages the listing with limit and nextToken', async () => {
    for (const name of ['page-a', 'page-b', 'page-c'])
      await api(server.url, 'PUT', `/v1/image-sets/${name}`, { config });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await api(
        server.url,
        'GET',
        `/v1/image-sets?limit=1${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
      );
      const page = res.json as { imageSets: { name: string }[]; nextToken?: string };
      seen.push(...page.imageSets.map((s) => s.name));
      token = page.nextToken;
      pages++;
    } while (token !== undefined && pages < 50);
    expect(seen.filter((n) => n.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
    expect((await api(server.url, 'GET', '/v1/image-sets?nextToken=forged')).status).toBe(400);
  });

  it('takes the YAML document itself (Content-Type: application/yaml) and stores it as JSON', async () => {
    const res = await api(server.url, 'PUT', '/v1/image-sets/from-yaml', yamlDocument, {
      'content-type': 'application/yaml',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ name: 'from-yaml', version: 1, config });
    expect((await api(server.url, 'GET', '/v1/image-sets/from-yaml')).json).toMatchObject({ config });
  });

  it.each([
    ['a wrong kind', { config: { ...config, kind: 'Nope' } }, 'kind'],
    [
      'an additional image without a name',
      { config: { ...config, mirror: { additionalImages: [{}] } } },
      'mirror.additionalImages[0].name',
    ],
  ])('answers %s with 400 naming the path, and stores nothing', async (_what, body, path) => {
    const res = await api(server.url, 'PUT', '/v1/image-sets/refused', body);
    expect(res.status).toBe(400);
    expect((res.json as { path: string }).path).toBe(path);
    expect((await api(server.url, 'GET', '/v1/image-sets/refused')).status).toBe(404);
    const yaml = await api(
      server.url,
      'PUT',
      '/v1/image-sets/refused',
      yamlDocument.replace('kind: Image', 'kind: X'),
      {
        'content-type': 'application/yaml',
      },
    );
    expect(yaml.status).toBe(400);
    expect((yaml.json as { path: string }).path).toBe('kind');
    expect(await server.dumpTable()).not.toContain('SET#refused');
  });

  it('refuses hostile names, oversized bodies and documents, storing nothing', async () => {
    const before = await setNames();
    const hostile = [
      '..%2F..%2Fsettings',
      'a'.repeat(64),
      'a'.repeat(5000),
      encodeURIComponent('ñame'),
      encodeURIComponent('名前'),
      'UPPER',
      'a%00b',
      'a.b',
    ];
    for (const name of hostile) {
      const res = await api(server.url, 'PUT', `/v1/image-sets/${name}`, { config });
      expect([name.slice(0, 20), res.status]).toEqual([name.slice(0, 20), 400]);
      expect((res.json as { message: string }).message).toMatch(/^name: /);
      // The name is never echoed back.
      expect(res.text).not.toContain(name.slice(0, 20));
    }
    // An encoded `..` is resolved by the URL parser before any route sees it: no set route at all.
    expect((await api(server.url, 'PUT', '/v1/image-sets/%2E%2E', { config })).status).toBe(404);
    // `../` in a path never reaches another route as a set name (clients and the router normalise it).
    expect((await api(server.url, 'PUT', '/v1/image-sets/a/b', { config })).status).toBe(404);
    const huge = { config, padding: 'x'.repeat(1024 * 1024 + 10) };
    expect((await api(server.url, 'PUT', '/v1/image-sets/huge', huge)).status).toBe(400);
    // Under the API's body limit but over the document's: the parser's 400.
    const images = Array.from({ length: 1900 }, (_, i) => ({ name: `registry.example/${'p'.repeat(120)}${i}:1` }));
    const big = await api(server.url, 'PUT', '/v1/image-sets/big', {
      config: { ...config, mirror: { additionalImages: images } },
    });
    expect(big.status).toBe(400);
    expect((big.json as { path: string }).path).toBe('');
    expect(await setNames()).toEqual(before);
  });

  it('never stores a credential: inline ones are refused for sets, settings and saveAsDefault', async () => {
    const inline = { registry: dst.host, credentials: { username: 'mirror', password } };
    const set = await api(server.url, 'PUT', '/v1/image-sets/creds', { config, destination: inline });
    expect(set.status).toBe(400);
    expect(set.json).toMatchObject({ message: expect.stringMatching(/^destination\.credentials: /) as unknown });
    const settings = await api(server.url, 'PUT', '/v1/settings', { defaultDestination: inline });
    expect(settings.status).toBe(400);
    expect(settings.json).toMatchObject({
      message: expect.stringMatching(/^defaultDestination\.credentials: /) as unknown,
    });
    const run = await api(server.url, 'POST', '/v1/runs', {
      images: [`${src.host}/x/y:1`],
      destination: inline,
      saveAsDefault: true,
    });
    expect(run.status).toBe(400);
    expect(run.json).toMatchObject({ message: expect.stringMatching(/^destination\.credentials: /) as unknown });
    // A secret reference is stored as the reference (the raw item holds the ARN and nothing else).
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/mirror-AbCdEf';
    const byRef = await api(server.url, 'PUT', '/v1/image-sets/by-ref', {
      config,
      destination: { registry: dst.host, credentials: { secretArn } },
    });
    expect(byRef.status).toBe(200);
    const table = await server.dumpTable();
    expect(table).toContain(secretArn);
    expect(table).not.toContain(password);
    expect(table).not.toContain(Buffer.from(`mirror:${password}`).toString('base64'));
    expect(table).not.toContain('SET#creds');
  });

  it('saveAsDefault stores the destination; a run without one copies there (digest equal)', async () => {
    // No default yet: a run without destination is refused, saying so.
    expect((await api(server.url, 'GET', '/v1/settings')).json).toEqual({ defaultDestination: null });
    const refused = await api(server.url, 'POST', '/v1/runs', { images: [`${src.host}/x/y:1`] });
    expect(refused.status).toBe(400);
    expect((refused.json as { message: string }).message).toBe(noDefaultDestinationMessage);

    const repo = `sets/app-${rng.int(1e9)}`;
    const first = buildImage({ layers: [rng.bytes(6_000)] });
    const second = buildImage({ layers: [rng.bytes(7_000)] });
    await push(src.url, repo, 'v1', first);
    await push(src.url, repo, 'v2', second);
    const prefix = `dflt${rng.int(1e6)}`;
    const saving = await api(server.url, 'POST', '/v1/runs', {
      images: [`${src.host}/${repo}:v1`],
      destination: { registry: dst.host, prefix },
      saveAsDefault: true,
    });
    expect(saving.status).toBe(202);
    expect((await waitForRun(server.url, (saving.json as RunView).runId)).status).toBe('completed');
    expect((await api(server.url, 'GET', '/v1/settings')).json).toEqual({
      defaultDestination: { registry: dst.host, prefix, insecure: false },
    });

    const using = await api(server.url, 'POST', '/v1/runs', { images: [`${src.host}/${repo}:v2`] });
    expect(using.status).toBe(202);
    const done = await waitForRun(server.url, (using.json as RunView).runId);
    expect(done.status).toBe('completed');
    expect(Object.keys(done.images)).toEqual([`${dst.host}/${prefix}/${repo}:v2`]);
    expect(await remoteDigest(dst.url, `${prefix}/${repo}`, 'v2')).toBe(second.digest);

    // PUT /v1/settings replaces it; null clears it.
    const other = { registry: dst.host, prefix: `${prefix}-other` };
    expect((await api(server.url, 'PUT', '/v1/settings', { defaultDestination: other })).json).toEqual({
      defaultDestination: { ...other, insecure: false },
    });
    expect((await api(server.url, 'PUT', '/v1/settings', { defaultDestination: null })).json).toEqual({
      defaultDestination: null,
    });
    expect((await api(server.url, 'POST', '/v1/runs', { images: [`${src.host}/${repo}:v2`] })).status).toBe(400);
  });
});
