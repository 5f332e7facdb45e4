import { describe, expect, it } from 'vitest';
import { NetworkGuard } from '../../functions/oci/network-guard.js';

describe('NetworkGuard (SSRF)', () => {
  const guard = new NetworkGuard();
  it.each([
    ['127.0.0.1'], ['127.1.2.3'], ['10.0.0.5'], ['172.16.9.1'], ['172.31.255.255'], ['192.168.1.1'], ['169.254.169.254'], ['100.64.0.1'], ['0.0.0.0'],
    ['::1'], ['fd00::1'], ['fe80::1'], ['::ffff:169.254.169.254'],
  ])('refuses %s', (address) => {
    expect(guard.refusal('registry.example', address)).toMatch(/loopback, link-local or private/);
  });
  it.each([['52.94.1.1'], ['172.32.0.1'], ['2600:1f18::1'], ['8.8.8.8']])('allows public %s', (address) => {
    expect(guard.refusal('registry.example', address)).toBeUndefined();
  });
  it('honours allow-listed hosts and networks', () => {
    const allowing = new NetworkGuard(['registry.internal', '10.1.0.0/16']);
    expect(allowing.refusal('registry.internal', '10.9.9.9')).toBeUndefined();
    expect(allowing.refusal('other.internal', '10.1.2.3')).toBeUndefined();
    expect(allowing.refusal('other.internal', '10.2.0.1')).toMatch(/private/);
  });
});
