import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { anonymous } from '../../functions/oci/auth/credentials.js';
import { parseDigest } from '../../functions/oci/digest.js';
import type { Logger } from '../../functions/oci/log.js';
import { NetworkGuard } from '../../functions/oci/network-guard.js';
import { RegistryClient } from '../../functions/oci/registry-client.js';
import { RegistryRepository } from '../../functions/oci/registry-repository.js';
import { Transport } from '../../functions/oci/transport.js';
import { countingTarget, type Peer, scriptedHttp } from '../support/scripted-peers.js';

// NETWORK SAFETY: every address here is loopback. The guard refuses loopback by default, so the
// target below (a counting TCP server on 127.0.0.1) stands in for the metadata service: it must
// never see a connection. Forms that would leave the machine if the guard failed (NAT64, 6to4,
// 169.254.169.254 …) are only ever classified (test/unit/network-guard.test.ts), never connected to.

const blob = { mediaType: 'application/octet-stream', digest: parseDigest(`sha256:${'ab'.repeat(32)}`), size: 2 << 20 };
const pools = { undici: Infinity, 'pooled stream exchange': 0 } as const;
const transports: Transport[] = [];
const peers: Peer[] = [];
let target: Peer;
beforeEach(async () => {
  // A target of its own per test: one connection made cannot hide (or fake) another test's result.
  target = await countingTarget();
  peers.push(target);
});
afterAll(async () => {
  await Promise.all([...transports.map((t) => t.close()), ...peers.map((p) => p.close())]);
});

/**
 * Spellings of the target's host: an IPv4 literal and IPv4-mapped IPv6 literals (URLs print them
 * in hex), checked before connecting, and a name, refused at connect time.
 */
const spellings = ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', 'localhost'];
const at = (host: string): string => `${host}:${target.port}`;

function transport(guard: NetworkGuard, streamThreshold: number): Transport {
  const t = new Transport({ guard, streamThreshold, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
  transports.push(t);
  return t;
}

/** A logger that keeps what the client said, to show that a refusal is not retried. */
function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string): void => void lines.push(message);
  return { lines, debug: keep, info: keep, warn: keep };
}

async function refusedWithoutConnecting(attempt: Promise<unknown>, logger?: { lines: string[] }): Promise<Error> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const error = err as Error & { retryable?: boolean };
  expect(error.message).toMatch(
    /refused: (127\.0\.0\.1|::ffff:7f00:1|localhost) (is|resolves|embeds).*not a public address \(loopback\)/,
  );
  expect(error.name).toBe('TransportError');
  expect(error.retryable).toBe(false);
  if (logger) expect(logger.lines.filter((l) => l.startsWith('retrying'))).toEqual([]);
  expect(target.connections()).toBe(0);
  return error;
}

/** A registry front on [::1], allow-listed; it points the client at the target as a script says. */
async function front(handle: Parameters<typeof scriptedHttp>[1]): Promise<Peer> {
  const peer = await scriptedHttp('::1', handle);
  peers.push(peer);
  return peer;
}

describe('the SSRF guard refuses before connecting', () => {
  describe.each(Object.entries(pools))('on the %s path', (_path, streamThreshold) => {
    it.each(spellings)('a blob GET to %s', async (host) => {
      const url = new URL(`http://${at(host)}/v2/x/blobs/${blob.digest}`);
      await refusedWithoutConnecting(
        transport(new NetworkGuard(), streamThreshold).send({ method: 'GET', url, streamBytes: blob.size }),
      );
    });

    it.each(spellings)('a blob redirect (307) to %s', async (host) => {
      const registry = await front((req, res) => {
        if (req.url?.startsWith('/v2/x/blobs/'))
          res.writeHead(307, { location: `http://${at(host)}/storage/blob` }).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      const logger = recorder();
      const client = new RegistryClient(
        registry.host,
        transport(new NetworkGuard(['::1']), streamThreshold),
        anonymous,
        logger,
      );
      await refusedWithoutConnecting(new RegistryRepository(client, 'x').openBlob(blob, 0), logger);
      expect(registry.requests).toContain(`GET /v2/x/blobs/${blob.digest}`);
    });

    it.each(spellings)('an upload Location on %s', async (host) => {
      const registry = await front((req, res) => {
        if (req.method === 'POST') res.writeHead(202, { location: `http://${at(host)}/upload/1?state=s` }).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      const logger = recorder();
      const client = new RegistryClient(
        registry.host,
        transport(new NetworkGuard(['::1']), streamThreshold),
        anonymous,
        logger,
      );
      const repository = new RegistryRepository(client, 'x', { push: true });
      const body = Readable.from([Buffer.alloc(blob.size)]);
      await refusedWithoutConnecting(repository.writeBlob(blob, body), logger);
      expect(registry.requests).toContain('POST /v2/x/blobs/uploads/');
    });
  });

  // A registry's first request (the ping), token requests and tag pages are small: they always go through undici.
  it.each(spellings)('a registry host %s', async (host) => {
    const logger = recorder();
    const client = new RegistryClient(at(host), transport(new NetworkGuard(), Infinity), anonymous, logger);
    await refusedWithoutConnecting(
      client.request({ method: 'GET', path: 'v2/x/manifests/v1', scopes: [], expect: [200] }),
      logger,
    );
  });

  it.each(spellings)('a token realm on %s', async (host) => {
    const registry = await front((_req, res) => {
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://${at(host)}/token",service="s"`,
          'content-type': 'application/json',
        })
        .end('{}');
    });
    const logger = recorder();
    const client = new RegistryClient(registry.host, transport(new NetworkGuard(['::1']), Infinity), anonymous, logger);
    await refusedWithoutConnecting(
      client.request({ method: 'GET', path: 'v2/x/manifests/v1', scopes: ['repository:x:pull'], expect: [200] }),
      logger,
    );
    expect(registry.requests).toEqual(['GET /v2/']);
  });

  it.each(spellings)('a Link next page on %s', async (host) => {
    const registry = await front((req, res) => {
      const headers = {
        'content-type': 'application/json',
        ...(req.url?.startsWith('/v2/x/tags/list')
          ? { link: `<http://${at(host)}/v2/x/tags/list?n=1&last=a>; rel="next"` }
          : {}),
      };
      res.writeHead(200, headers).end(req.url?.startsWith('/v2/x/tags/list') ? '{"name":"x","tags":["a"]}' : '{}');
    });
    const logger = recorder();
    const client = new RegistryClient(registry.host, transport(new NetworkGuard(['::1']), Infinity), anonymous, logger);
    // A next page off the registry's origin is refused by the tag lister itself, before the guard is asked.
    const err = await new RegistryRepository(client, 'x').listTags().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.name).toBe('TagListError');
    expect(err?.code).toBe('LINK_CROSS_ORIGIN');
    expect(target.connections()).toBe(0);
    expect(registry.requests).toContain('GET /v2/x/tags/list?n=1000');
  });
});

describe("the guard's connect-time lookup", () => {
  // Node calls `lookup` with { all: true } when it races addresses (autoSelectFamily, undici's
  // default through net.connect) and without it otherwise: both answers must have the right shape.
  it.each([[true], [false]])(
    'refuses a name that resolves to loopback (autoSelectFamily %s) and connects to allowed ones',
    async (autoSelectFamily) => {
      const own = await countingTarget();
      peers.push(own);
      const refused = netConnect({
        host: 'localhost',
        port: own.port,
        lookup: new NetworkGuard().lookup,
        autoSelectFamily,
      });
      const [err] = (await once(refused, 'error')) as [Error & { code?: string }];
      expect(err.code).toBe('EFERRYDENIED');
      expect(err.message).toMatch(/refused: localhost resolves to 127\.0\.0\.1, not a public address \(loopback\)/);
      expect(own.connections()).toBe(0);

      const allowed = netConnect({
        host: 'localhost',
        port: own.port,
        lookup: new NetworkGuard(['127.0.0.0/8']).lookup,
        autoSelectFamily,
      });
      allowed.on('error', () => undefined);
      await once(allowed, 'connect');
      allowed.destroy();
      expect(own.connections()).toBe(1);
    },
  );
});
