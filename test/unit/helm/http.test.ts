import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { transportBytesGetter } from '../../../functions/mirror/helm/http.js';
import type { HttpRequest, HttpResponse } from '../../../functions/oci/transport.js';

/** A scripted transport: URL → status, headers and body; every request logged. */
function fakeTransport(
  routes: Record<string, { status: number; headers?: Record<string, string>; body?: string }>,
  insecure: readonly string[] = [],
) {
  const sent: string[] = [];
  return {
    sent,
    isInsecure: (host: string) => insecure.includes(host),
    send(req: HttpRequest): Promise<HttpResponse> {
      sent.push(`${req.method} ${req.url.toString()}`);
      const route = routes[req.url.toString()] ?? { status: 404, body: 'nope' };
      return Promise.resolve({
        status: route.status,
        headers: route.headers ?? {},
        body: Readable.from([Buffer.from(route.body ?? '')]),
        url: req.url,
      });
    },
  };
}

describe('transportBytesGetter', () => {
  it('returns the body of a 200', async () => {
    const t = fakeTransport({ 'https://c.test/index.yaml': { status: 200, body: 'apiVersion: v1' } });
    expect((await transportBytesGetter(t).getBytes('https://c.test/index.yaml', 100)).toString()).toBe(
      'apiVersion: v1',
    );
  });

  it('follows redirects (relative too), each through the transport', async () => {
    const t = fakeTransport({
      'https://c.test/a.tgz': { status: 302, headers: { location: 'https://cdn.test/x/a.tgz' } },
      'https://cdn.test/x/a.tgz': { status: 301, headers: { location: '../y/a.tgz' } },
      'https://cdn.test/y/a.tgz': { status: 200, body: 'tgz' },
    });
    expect((await transportBytesGetter(t).getBytes('https://c.test/a.tgz', 100)).toString()).toBe('tgz');
    expect(t.sent).toEqual([
      'GET https://c.test/a.tgz',
      'GET https://cdn.test/x/a.tgz',
      'GET https://cdn.test/y/a.tgz',
    ]);
  });

  it('stops after 5 redirects with the redirect status', async () => {
    const t = fakeTransport({ 'https://c.test/loop': { status: 302, headers: { location: '/loop' } } });
    await expect(transportBytesGetter(t).getBytes('https://c.test/loop', 100)).rejects.toMatchObject({
      name: 'RegistryError',
      status: 302,
    });
    expect(t.sent).toHaveLength(6);
  });

  it('refuses plain http unless the host is insecure, and never downgrades a redirect', async () => {
    const t = fakeTransport(
      {
        'http://lan.test/i': { status: 200, body: 'ok' },
        'https://c.test/down': { status: 302, headers: { location: 'http://c.test/i' } },
      },
      ['lan.test'],
    );
    expect((await transportBytesGetter(t).getBytes('http://lan.test/i', 100)).toString()).toBe('ok');
    await expect(transportBytesGetter(t).getBytes('http://c.test/i', 100)).rejects.toMatchObject({
      name: 'HelmError',
      code: 'HELM_URL_REFUSED',
    });
    await expect(transportBytesGetter(t).getBytes('https://c.test/down', 100)).rejects.toMatchObject({
      code: 'HELM_URL_REFUSED',
    });
    await expect(transportBytesGetter(t).getBytes('file:///etc/passwd', 100)).rejects.toMatchObject({
      code: 'HELM_URL_REFUSED',
    });
    expect(t.sent).toEqual(['GET http://lan.test/i', 'GET https://c.test/down']);
  });

  it('a body past the cap is HELM_TOO_LARGE; a 5xx a retryable RegistryError', async () => {
    const t = fakeTransport({
      'https://c.test/big': { status: 200, body: 'x'.repeat(101) },
      'https://c.test/down': { status: 503, body: 'busy' },
    });
    await expect(transportBytesGetter(t).getBytes('https://c.test/big', 100)).rejects.toMatchObject({
      code: 'HELM_TOO_LARGE',
    });
    await expect(transportBytesGetter(t).getBytes('https://c.test/down', 100)).rejects.toMatchObject({
      name: 'RegistryError',
      status: 503,
      retryable: true,
    });
  });
});
