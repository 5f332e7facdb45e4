import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anonymous, StaticCredentials } from '../../functions/oci/auth/credentials.js';
import { parseDigest } from '../../functions/oci/digest.js';
import { RegistryClient } from '../../functions/oci/registry-client.js';
import { RegistryRepository } from '../../functions/oci/registry-repository.js';
import { Transport } from '../../functions/oci/transport.js';
import { countingTarget, endlessBody, type Peer, scriptedHttp } from '../support/scripted-peers.js';
import { makeCertificates, type TestCertificates } from '../support/tls-certs.js';

const transports: Transport[] = [];
const peers: Peer[] = [];
let certs: TestCertificates;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(async () => {
  await Promise.all([...transports.map((t) => t.close()), ...peers.map((p) => p.close())]);
});

function transport(options: ConstructorParameters<typeof Transport>[0] = {}): Transport {
  const t = new Transport({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, ...options });
  transports.push(t);
  return t;
}

async function peer(handle: (req: IncomingMessage, res: ServerResponse) => void, tls = false): Promise<Peer> {
  const p = await scriptedHttp(
    '127.0.0.1',
    handle,
    tls ? { key: readFileSync(certs.keyFile), cert: readFileSync(certs.certFile) } : undefined,
  );
  peers.push(p);
  return p;
}

const basic = (host: string) =>
  new StaticCredentials(new Map([[host, { kind: 'basic' as const, username: 'u', password: 'secret' }]]));
const manifestRequest = {
  method: 'GET',
  path: 'v2/x/manifests/v1',
  repository: 'x',
  scopes: ['repository:x:pull'],
  expect: [200],
} as const;

describe('token realm downgrade', () => {
  it('refuses an http realm announced by an https registry, naming both, and sends it nothing', async () => {
    const realm = await countingTarget();
    peers.push(realm);
    const registry = await peer((_req, res) => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${realm.host}/token?x=1",service="s"` }).end();
    }, true);
    const client = new RegistryClient(
      registry.host,
      transport({ ca: readFileSync(certs.caFile), verifyHosts: [registry.host] }),
      basic(registry.host),
    );
    const err = (await client.request(manifestRequest).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { retryable?: boolean; registry?: string };
    expect(err.name).toBe('AuthenticationError');
    expect(err.message).toBe(
      `authentication to ${registry.host} failed: the registry is reached over https but its token realm http://${realm.host}/token is plain http; credentials and tokens never go in cleartext`,
    );
    expect(err.retryable).toBe(false);
    expect(realm.connections()).toBe(0);
    expect(registry.requests).toEqual(['GET /v2/']);
  });

  it('lets a plain-http (loopback) registry use an http realm', async () => {
    const tokens = await peer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t1"}'),
    );
    const registry = await peer((req, res) => {
      if (req.headers.authorization === 'Bearer t1')
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokens.host}/token",service="s"` }).end();
    });
    const res = await new RegistryClient(registry.host, transport(), basic(registry.host)).request(manifestRequest);
    res.body.resume();
    expect(res.status).toBe(200);
    expect(tokens.requests).toHaveLength(1);
  });
});

/**
 * Each case: a peer answers with a body that never ends; the request must fail (or, for a
 * redirect, go on) while the peer sees the client close every such connection. Draining instead
 * would spin at 100 % CPU for ever and never close them: the test would time out.
 */
describe('endless bodies are capped and dropped, never drained', () => {
  const abandoned: Promise<void>[] = [];
  beforeEach(() => {
    abandoned.length = 0;
  });
  const endless = (res: ServerResponse, status: number, headers: Record<string, string> = {}): void =>
    void abandoned.push(endlessBody(res, status, headers));
  const allClosed = async (count: number): Promise<void> => {
    expect(abandoned).toHaveLength(count);
    await Promise.all(abandoned);
  };
  const blob = {
    mediaType: 'application/octet-stream',
    digest: parseDigest(`sha256:${'cd'.repeat(32)}`),
    size: 2 << 20,
  };

  describe.each([
    ['undici', Infinity],
    ['the pooled stream exchange', 0],
  ] as const)('blob GETs through %s', (_path, streamThreshold) => {
    it('an error (404) body', async () => {
      const registry = await peer((req, res) => (req.url === '/v2/' ? res.writeHead(200).end() : endless(res, 404)));
      const repository = new RegistryRepository(
        new RegistryClient(registry.host, transport({ streamThreshold }), anonymous),
        'x',
      );
      await expect(repository.openBlob(blob, 0)).rejects.toMatchObject({ name: 'NotFoundError', status: 404 });
      await allClosed(1);
    });

    it('a 429 body on every retry', async () => {
      const registry = await peer((req, res) => (req.url === '/v2/' ? res.writeHead(200).end() : endless(res, 429)));
      const repository = new RegistryRepository(
        new RegistryClient(registry.host, transport({ streamThreshold }), anonymous),
        'x',
      );
      await expect(repository.openBlob(blob, 0)).rejects.toMatchObject({ name: 'RegistryError', status: 429 });
      await allClosed(3);
    });

    it("a redirect's body, and the redirect is still followed", async () => {
      const content = Buffer.alloc(blob.size, 7);
      const registry = await peer((req, res) => {
        if (req.url === '/v2/') res.writeHead(200).end();
        else if (req.url?.startsWith('/v2/x/blobs/')) endless(res, 307, { location: '/storage/blob' });
        else res.writeHead(200, { 'content-length': String(content.length) }).end(content);
      });
      const repository = new RegistryRepository(
        new RegistryClient(registry.host, transport({ streamThreshold }), anonymous),
        'x',
      );
      const { body } = await repository.openBlob(blob, 0);
      const chunks: Buffer[] = [];
      for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
      expect(Buffer.concat(chunks).equals(content)).toBe(true);
      await allClosed(1);
    });
  });

  it("a 401 body (the ping's and the request's) with credentials", async () => {
    const registry = await peer((_req, res) => endless(res, 401, { 'www-authenticate': 'Basic realm="r"' }));
    const client = new RegistryClient(registry.host, transport(), basic(registry.host));
    await expect(client.request(manifestRequest)).rejects.toMatchObject({ name: 'AuthenticationError', status: 401 });
    // The ping (http; the https probe fails its handshake), the request, and its one retry with fresh credentials.
    await allClosed(3);
  });

  it.each([
    [401, 'AuthenticationError', /the token server rejected the credentials/],
    [200, 'RegistryError', /returned no token/],
  ] as const)('a token server answering %i with an endless body', async (status, name, message) => {
    const tokens = await peer((_req, res) => endless(res, status));
    const registry = await peer((_req, res) =>
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokens.host}/token",service="s"` }).end(),
    );
    const client = new RegistryClient(registry.host, transport(), basic(registry.host));
    const err = (await client.request(manifestRequest).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(err.name).toBe(name);
    expect(err.message).toMatch(message);
    await allClosed(1);
  });
});
