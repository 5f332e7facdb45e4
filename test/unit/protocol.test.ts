import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../functions/oci/auth/challenge.js';
import { backoffDelay, defaultRetryPolicy, isRetryable, parseRetryAfter } from '../../functions/oci/retry.js';
import { isLoopbackHost, redactUrl, Transport } from '../../functions/oci/transport.js';
import { describeError, TransportError } from '../../functions/oci/errors.js';

describe('WWW-Authenticate', () => {
  it('parses Bearer challenges with quoted and token params', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/alpine:pull',
      },
    });
    expect(parseChallenge('Basic realm=Registry')).toEqual({ scheme: 'basic', params: { realm: 'Registry' } });
    expect(parseChallenge('bearer realm="a\\"b"')?.params.realm).toBe('a"b');
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe('retries', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped', () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(policy, 0, () => 0)).toBe(50);
    expect(backoffDelay(policy, 0, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 1)).toBe(800);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1000);
  });

  it('knows transient network errors through causes', () => {
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(new Error('outer', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }) }))).toBe(
      true,
    );
    expect(isRetryable(new Error('plain'))).toBe(false);
  });
});

describe('transport helpers', () => {
  it('treats only loopback hosts as implicitly insecure', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]:5000', '::1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['10.0.0.1', 'example.com', '128.0.0.1', 'localhost.evil.com'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
  it('decides TLS per host:port, then host (brackets kept for IPv6), verification winning a tie', async () => {
    const transport = new Transport({
      insecureHosts: ['[fd12::1]', 'reg.example', 'pinned.example:5000'],
      verifyHosts: ['localhost:5000', '[::1]'],
    });
    try {
      const cases: [string, boolean][] = [
        ['[fd12::1]:5000', true],
        ['[fd12::1]', true],
        ['[fd12::2]:5000', false],
        ['reg.example:443', true],
        ['REG.example', true],
        ['pinned.example:5000', true],
        ['pinned.example:5001', false],
        ['localhost:5000', false],
        ['localhost:5001', true],
        ['[::1]:5000', false],
        ['127.0.0.1:5000', true],
        ['other.example', false],
      ];
      expect(cases.map(([host]) => [host, transport.isInsecure(host)])).toEqual(cases);
    } finally {
      await transport.close();
    }
  });
  it('redacts query strings and userinfo from URLs in messages', () => {
    expect(redactUrl(new URL('https://u:p@s3.example.com/b/k?X-Amz-Signature=secret'))).toBe(
      'https://s3.example.com/b/k',
    );
  });
  it('describes error chains on one line without repeats', () => {
    const inner = new TransportError('GET x: ECONNRESET', { registry: 'r' });
    expect(describeError(new Error('copy failed: GET x: ECONNRESET', { cause: inner }))).toBe(
      'copy failed: GET x: ECONNRESET',
    );
    expect(describeError(new Error('outer', { cause: new Error('inner') }))).toBe('outer: inner');
  });
});
