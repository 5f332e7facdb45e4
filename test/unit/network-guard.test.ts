import { describe, expect, it } from 'vitest';
import { embeddedIPv4, parseIp } from '../../functions/oci/ip-address.js';
import { NetworkGuard } from '../../functions/oci/network-guard.js';

const guard = new NetworkGuard();
const hex = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

describe('IP address parsing', () => {
  it.each([
    ['1.2.3.4', '01020304'],
    ['::', '0'.repeat(32)],
    ['::1', `${'0'.repeat(30)}01`],
    ['[::1]', `${'0'.repeat(30)}01`],
    ['::ffff:169.254.169.254', `${'0'.repeat(20)}ffffa9fea9fe`],
    ['::FFFF:A9FE:A9FE', `${'0'.repeat(20)}ffffa9fea9fe`],
    ['0:0:0:0:0:ffff:a9fe:a9fe', `${'0'.repeat(20)}ffffa9fea9fe`],
    ['64:ff9b::1.2.3.4', `0064ff9b${'0'.repeat(16)}01020304`],
    ['2001:db8:1:2:3:4:5:6', '20010db8000100020003000400050006'],
    ['fe80::1%eth0', `fe80${'0'.repeat(26)}01`],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
  ])('%s → %s', (text, bytes) => {
    expect(hex(parseIp(text))).toBe(bytes);
  });

  it.each([['1.2.3'], ['256.1.1.1'], ['::g'], ['1:2:3:4:5:6:7:8:9'], ['1::2::3'], ['registry.example'], ['']])(
    'rejects %s',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );

  it.each([
    ['::ffff:10.1.2.3', '10.1.2.3', 'IPv4-mapped'],
    ['::ffff:0:10.1.2.3', '10.1.2.3', 'IPv4-translated'],
    ['::10.1.2.3', '10.1.2.3', 'IPv4-compatible'],
    ['64:ff9b::10.1.2.3', '10.1.2.3', 'NAT64'],
    ['2002:a01:203::1', '10.1.2.3', '6to4'],
    // Teredo: the server's address in bits 32-63, the client's inverted in the last 32.
    ['2001:0:4136:e378:8000:63bf:f5fe:fdfc', '10.1.2.3', 'Teredo client'],
  ])('%s embeds %s (%s)', (text, v4, form) => {
    const found = embeddedIPv4(parseIp(text)!).map((e) => [e.bytes.join('.'), e.form]);
    expect(found).toContainEqual([v4, form]);
  });

  it('finds no IPv4 address in ::, ::1 or ordinary IPv6', () => {
    for (const text of ['::', '::1', '2600:1f18::1', 'fe80::1']) expect(embeddedIPv4(parseIp(text)!), text).toEqual([]);
  });
});

describe('NetworkGuard (SSRF)', () => {
  it.each([
    // IPv4 special-purpose ranges.
    ['0.0.0.0', '"this network"'],
    ['0.1.2.3', '"this network"'],
    ['10.0.0.5', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.9.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'IETF'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', '6to4 relay'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    // IPv6 special-purpose ranges.
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fd00:ec2::254', 'unique local'],
    ['fc00::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['100::1', 'discard'],
    ['2001:2::1', 'benchmarking'],
    ['64:ff9b:1::a9fe:a9fe', 'local-use NAT64'],
    ['2001:10::1', 'ORCHID'],
    ['2001:1f:ffff::1', 'ORCHID'],
    ['2001:20::1', 'ORCHIDv2'],
    ['2001:2f:ffff::1', 'ORCHIDv2'],
    ['5f00::1', 'SRv6'],
    ['5f00:ffff::1', 'SRv6'],
    // IPv6 forms that carry a forbidden IPv4 address, in every spelling.
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::FFFF:A9FE:A9FE', 'link-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0:a9fe:a9fe', 'link-local'],
    ['::169.254.169.254', 'link-local'],
    ['::a9fe:a9fe', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::5', 'private'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'link-local'],
    ['2001:0:a00:1::f5ff:fffe', 'private'],
  ])('refuses %s (%s)', (address, why) => {
    const refusal = guard.refusal(address, address);
    expect(refusal).toContain(why);
    expect(refusal).toMatch(/^\S+ (is|embeds)/);
  });

  it('names the embedded IPv4 address and the form that carries it', () => {
    expect(guard.refusal('::ffff:a9fe:a9fe', '::ffff:a9fe:a9fe')).toBe(
      '::ffff:a9fe:a9fe embeds 169.254.169.254 (IPv4-mapped), not a public address (link-local (cloud metadata)): the service reaches loopback, link-local or private addresses only when allow-listed',
    );
    expect(guard.refusal('metadata.internal', '169.254.169.254')).toMatch(
      /^metadata\.internal resolves to 169\.254\.169\.254, not a public address/,
    );
  });

  it.each([
    ['8.8.8.8'],
    ['52.94.1.1'],
    ['172.32.0.1'],
    ['100.128.0.1'],
    ['198.20.0.1'],
    ['223.255.255.255'],
    ['2600:1f18::1'],
    ['2a00:1450:4001::200e'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::808:808'],
    ['2002:808:808::1'],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7'],
  ])('allows public %s', (address) => {
    expect(guard.refusal('registry.example', address)).toBeUndefined();
  });

  it('checks URL literals as WHATWG URL serialises them (hex IPv6, any IPv4 notation)', () => {
    expect(new URL('http://[::ffff:169.254.169.254]/').hostname).toBe('[::ffff:a9fe:a9fe]');
    for (const literal of [
      '[::ffff:169.254.169.254]',
      '[::ffff:0:a9fe:a9fe]',
      '[64:ff9b::169.254.169.254]',
      '[2002:a9fe:a9fe::]',
      '0xa9.0xfe.0xa9.0xfe',
      '2852039166',
      '169.254.43518',
      '0251.0376.0251.0376',
      '[fd00:ec2::254]',
      '[::]',
      '0',
    ]) {
      expect(guard.literalRefusal(new URL(`https://${literal}:443/v2/`)), literal).toMatch(/not a public address/);
    }
    expect(guard.literalRefusal(new URL('https://registry.example/v2/'))).toBeUndefined();
    expect(guard.literalRefusal(new URL('https://[2600:1f18::1]/v2/'))).toBeUndefined();
  });

  it('honours allow-listed hosts and networks, embedded addresses included', () => {
    const allowing = new NetworkGuard(['registry.internal', '10.1.0.0/16', 'fd12:3456::/32', '192.168.7.7']);
    expect(allowing.refusal('registry.internal', '10.9.9.9')).toBeUndefined();
    expect(allowing.refusal('other.internal', '10.1.2.3')).toBeUndefined();
    expect(allowing.refusal('other.internal', '::ffff:10.1.2.3')).toBeUndefined();
    expect(allowing.refusal('other.internal', 'fd12:3456::9')).toBeUndefined();
    expect(allowing.refusal('other.internal', '192.168.7.7')).toBeUndefined();
    expect(allowing.refusal('other.internal', '192.168.7.8')).toMatch(/private/);
    expect(allowing.refusal('other.internal', '10.2.0.1')).toMatch(/private/);
    expect(allowing.refusal('other.internal', 'fd12:3457::9')).toMatch(/unique local/);
    expect(() => new NetworkGuard(['10.0.0.0/33'])).toThrow(/not a network/);
  });
});
