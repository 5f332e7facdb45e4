import { describe, expect, it } from 'vitest';
import { RequestGuard } from '../../functions/local/request-guard.js';

/** The status a GET with this Host gets: undefined when it may go on to the API. */
const statusFor = (guard: RequestGuard, host: string): number | undefined =>
  guard.check({ method: 'GET', headers: { host } })?.status;

describe('RequestGuard: the Host ferry serve listens on', () => {
  it.each([
    // [--host, Host header, accepted?]
    ['127.0.0.1', '127.0.0.1:8080', true],
    ['127.0.0.1', 'localhost:8080', true],
    ['127.0.0.1', '[::1]:8080', true],
    ['127.0.0.1', '127.0.0.1:8081', false],
    ['127.0.0.1', '127.0.0.1', false],
    ['::1', '[::1]:8080', true],
    ['[::1]', '[::1]:8080', true],
    ['::1', '::1:8080', false],
    ['fd12::1', '[fd12::1]:8080', true],
    ['[FD12::1]', '[fd12::1]:8080', true],
    ['fd12::1', 'fd12::1:8080', false],
    ['fd12::1', '[::1]:8080', false],
    ['192.168.0.10', '192.168.0.10:8080', true],
    ['192.168.0.10', 'rebind.attacker.example:8080', false],
    // A wildcard has no one name to check (a token is required there instead).
    ['0.0.0.0', 'anything.example:1', true],
    ['::', 'anything.example:1', true],
    ['[::]', 'anything.example:1', true],
  ] as const)('--host %s, Host %s → accepted %s', (listen, host, accepted) => {
    const guard = new RequestGuard(listen, 8080, 'a-token-long-enough-for-the-guard');
    const status = statusFor(guard, host);
    // With a token set and none sent, an accepted Host meets the token check (401) next.
    expect(status).toBe(accepted ? 401 : 421);
  });

  it('takes the same-origin Origin of an IPv6 listener in brackets', () => {
    const guard = new RequestGuard('::1', 8080, undefined);
    expect(
      guard.check({ method: 'GET', headers: { host: '[::1]:8080', origin: 'http://[::1]:8080' } }),
    ).toBeUndefined();
    expect(guard.check({ method: 'GET', headers: { host: '[::1]:8080', origin: 'http://[::1]:8081' } })?.status).toBe(
      403,
    );
  });
});
