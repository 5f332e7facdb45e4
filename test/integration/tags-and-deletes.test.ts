import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseDigest } from '../../functions/oci/digest.js';
import { ErrorNames, type RegistryError } from '../../functions/oci/errors.js';
import { registryManifestDeleter } from '../../functions/oci/manifest-deleter.js';
import { parseLocation } from '../../functions/oci/reference.js';
import type { Repository } from '../../functions/oci/repository.js';
import { basicCreds, createEngine, tokenHeader } from '../support/engine.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { buildImage, push, remoteDigest, Rng, writeLayout } from '../support/fixtures.js';
import { startRegistry } from '../support/registry-process.js';
import { countingTarget, type Peer, scriptedHttp } from '../support/scripted-peers.js';
import { pagingFront } from './paging-front.js';

const { seed, src, token } = inject('registries');
const rng = new Rng(seed + 9);
const engine = createEngine();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await engine.close();
});

const repo = (name: string): string => `tags/${name}-${rng.int(1e9)}`;
const repository = (location: string, role: 'source' | 'destination' = 'source'): Repository =>
  engine.registries.repository(parseLocation(location), role);

async function rejection(attempt: Promise<unknown>): Promise<RegistryError> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as RegistryError;
}

/** Pushes `count` small images, one tag each; returns tag → digest. */
async function pushTags(base: string, name: string, tags: readonly string[]): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const tag of tags) {
    const image = buildImage({ layers: [rng.bytes(64)], annotations: { tag } });
    await push(base, name, tag, image);
    digests.set(tag, image.digest);
  }
  return digests;
}

async function peer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Peer> {
  const started = await scriptedHttp('127.0.0.1', handle);
  closers.push(() => started.close());
  return started;
}

describe('tags/list on a real docker-registry', () => {
  it('lists every tag over several pages of n=5, following the Links', async () => {
    const name = repo('paged');
    const tags = [
      '1.0.0',
      '1.1.0',
      '1.2.0',
      'v2.0.0',
      'v2.1.0-rc.1',
      '2.1.0',
      'latest',
      'alpine',
      '3',
      '3.0',
      '3.0.1',
      'edge',
      'nightly',
    ];
    await pushTags(src.url, name, tags);
    const front = await pagingFront(src.url);
    closers.push(() => front.close());
    const listed = await repository(`${front.host}/${name}`).listTags({ pageSize: 5 });
    expect(listed).toEqual([...tags].sort());
    const pages = front.requests.filter((r) => r.startsWith(`GET /v2/${name}/tags/list`));
    expect(pages).toEqual([
      `GET /v2/${name}/tags/list?n=5`,
      `GET /v2/${name}/tags/list?last=3&n=5`,
      `GET /v2/${name}/tags/list?last=latest&n=5`,
    ]);
  });

  it('reads docker-registry 2.8, which sends every tag in one page whatever n says', async () => {
    const name = repo('one-page');
    const tags = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    await pushTags(src.url, name, tags);
    const proxy = await startFaultProxy(src.url);
    closers.push(() => proxy.stop());
    expect((await repository(`${proxy.host}/${name}`).listTags({ pageSize: 5 })).sort()).toEqual(tags);
    expect(proxy.seen.filter((r) => r.url.startsWith(`/v2/${name}/tags/list`)).map((r) => r.url)).toEqual([
      `/v2/${name}/tags/list?n=5`,
    ]);
  });

  it('lists a repository the registry does not know as no tags', async () => {
    expect(await repository(`${src.host}/${repo('none')}`).listTags()).toEqual([]);
  });
});

describe('tags/list against a scripted registry', () => {
  it('refuses a Link to another origin: no request reaches it, and no Authorization leaves', async () => {
    const other = await countingTarget();
    closers.push(() => other.close());
    const registry = await peer((req, res) => {
      if (req.url?.startsWith('/v2/app/tags/list'))
        res
          .writeHead(200, {
            'content-type': 'application/json',
            link: `<http://${other.host}/v2/app/tags/list?last=a&n=1000>; rel="next"`,
          })
          .end('{"name":"app","tags":["a"]}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const err = await rejection(repository(`${registry.host}/app`).listTags());
    expect(err.name).toBe(ErrorNames.tagList);
    expect(err.code).toBe('LINK_CROSS_ORIGIN');
    expect(err.repository).toBe('app');
    expect(registry.requests.filter((r) => r.startsWith('GET /v2/app/tags/list'))).toEqual([
      'GET /v2/app/tags/list?n=1000',
    ]);
    expect(other.connections()).toBe(0);
  });

  it.each([
    ['not JSON', 'text/html', '<html>502 bad gateway</html>'],
    ['JSON of another shape', 'application/json', '{"name":"app","tags":"a,b"}'],
  ])('fails with a typed error naming registry and repository when the body is %s', async (_what, type, body) => {
    const registry = await peer((req, res) => {
      res.writeHead(200, { 'content-type': req.url?.includes('/tags/list') ? type : 'application/json' });
      res.end(req.url?.includes('/tags/list') ? body : '{}');
    });
    const err = await rejection(repository(`${registry.host}/team/app`).listTags());
    expect(err.name).toBe(ErrorNames.tagList);
    expect(err.code).toBe('TAG_LIST_INVALID');
    expect(err.registry).toBe(registry.host);
    expect(err.repository).toBe('team/app');
  });
});

describe('deleteManifest', () => {
  it('asks the token server for delete (and push) and sends DELETE with that token', async () => {
    const scopes: string[] = [];
    const registry = await peer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://peer');
      if (url.pathname === '/token') {
        scopes.push(...url.searchParams.getAll('scope'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t-delete"}');
      } else if (req.headers.authorization !== 'Bearer t-delete') {
        const realm = `http://${req.headers.host ?? ''}/token`;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="peer"` }).end('{}');
      } else res.writeHead(202).end();
    });
    const digest = parseDigest(`sha256:${'cd'.repeat(32)}`);
    await repository(`${registry.host}/team/app`, 'destination').deleteManifest(digest);
    expect(scopes).toEqual(['repository:team/app:pull,push,delete']);
    expect(registry.requests.filter((r) => r.startsWith('DELETE'))).toContain(
      `DELETE /v2/team/app/manifests/${digest}`,
    );
  });

  it('deletes by digest on a real registry: that tag is gone, the other tags stay', async () => {
    const name = repo('delete');
    const digests = await pushTags(src.url, name, ['old', 'keep', 'also']);
    const target = repository(`${src.host}/${name}`, 'destination');
    await registryManifestDeleter.delete(target, parseDigest(digests.get('old')!));
    expect(await remoteDigest(src.url, name, 'old')).toBeUndefined();
    expect(await remoteDigest(src.url, name, digests.get('old')!)).toBeUndefined();
    expect(await remoteDigest(src.url, name, 'keep')).toBe(digests.get('keep'));
    expect(await remoteDigest(src.url, name, 'also')).toBe(digests.get('also'));
    expect((await target.listTags()).sort()).toEqual(['also', 'keep']);

    const again = await rejection(target.deleteManifest(parseDigest(digests.get('old')!)));
    expect(again.name).toBe(ErrorNames.notFound);
    expect(again.status).toBe(404);
  });

  it('deletes on a token registry (docker-registry + JWT issuer)', async () => {
    const name = repo('token-delete');
    const auth = tokenHeader(token.realm, 'ferry-test-registry', token.username, token.password);
    const digests = new Map<string, string>();
    for (const tag of ['gone', 'kept']) {
      const image = buildImage({ layers: [rng.bytes(64)], annotations: { tag } });
      await push(token.url, name, tag, image, auth);
      digests.set(tag, image.digest);
    }
    const withToken = createEngine({ destinationCredentials: basicCreds(token.host, token.username, token.password) });
    closers.push(() => withToken.close());
    const target = withToken.registries.repository(parseLocation(`${token.host}/${name}`), 'destination');
    await target.deleteManifest(parseDigest(digests.get('gone')!));
    expect(await remoteDigest(token.url, name, 'gone', auth)).toBeUndefined();
    expect(await remoteDigest(token.url, name, 'kept', auth)).toBe(digests.get('kept'));
  });

  it('says deletes are disabled when the registry answers 405', async () => {
    const registry = await startRegistry({ kind: 'none' }, undefined, { deleteEnabled: false });
    closers.push(() => registry.stop());
    const name = repo('disabled');
    const digests = await pushTags(registry.url, name, ['v1']);
    const err = await rejection(
      repository(`${registry.host}/${name}`, 'destination').deleteManifest(parseDigest(digests.get('v1')!)),
    );
    expect(err.name).toBe(ErrorNames.deleteDisabled);
    expect(err.code).toBe('DELETE_DISABLED');
    expect(err.status).toBe(405);
    expect(await remoteDigest(registry.url, name, 'v1')).toBe(digests.get('v1'));
  });

  it('removes a layout entry from index.json, leaving its blobs for a garbage collection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-layout-delete-'));
    const image = buildImage({ layers: [rng.bytes(32)] });
    await writeLayout(dir, 'v1', image);
    const layout = repository(`oci:${dir}`, 'destination');
    expect(await layout.listTags()).toEqual(['v1']);
    await layout.deleteManifest(parseDigest(image.digest));
    expect(await layout.listTags()).toEqual([]);
    expect(await layout.headBlob({ ...image.blobs[1]!, digest: parseDigest(image.blobs[1]!.digest) })).toBe(true);
    const err = await rejection(layout.deleteManifest(parseDigest(image.digest)));
    expect(err.name).toBe(ErrorNames.notFound);
  });
});
