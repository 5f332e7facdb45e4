import { describe, expect, it } from 'vitest';
import {
  hasValidPort,
  isValidPort,
  joinHostPort,
  splitHostPort,
  stripPort,
  unbracket,
} from '../../functions/oci/host-port.js';

describe('splitHostPort', () => {
  const cases: [string, string, string | undefined][] = [
    // [authority, host, port]
    ['registry.example:5000', 'registry.example', '5000'],
    ['registry.example', 'registry.example', undefined],
    ['[::1]:5000', '::1', '5000'],
    ['[::1]', '::1', undefined],
    ['[2001:db8::1]:443', '2001:db8::1', '443'],
    // A bare IPv6 address is all host: its last group is not a port.
    ['::1', '::1', undefined],
    ['2001:db8::1', '2001:db8::1', undefined],
    ['fe80::1:5000', 'fe80::1:5000', undefined],
    ['127.0.0.1:80', '127.0.0.1', '80'],
    // Degenerate forms keep the colon's meaning: an empty port, an empty host.
    ['host:', 'host', ''],
    [':5000', '', '5000'],
    ['[::1]:', '::1', ''],
    ['', '', undefined],
    // Ports are returned as written; isValidPort judges them.
    ['host:99999', 'host', '99999'],
    ['host:http', 'host', 'http'],
  ];
  it.each(cases)('%j → host %j, port %j', (authority, host, port) => {
    expect(splitHostPort(authority)).toEqual({ host, port });
  });
});

describe('ports', () => {
  it.each([
    ['1', true],
    ['5000', true],
    ['65535', true],
    ['0080', true],
    ['0', false],
    ['65536', false],
    ['99999999999999999999', false],
    ['', false],
    ['-1', false],
    ['80a', false],
    [' 80', false],
  ])('isValidPort(%j) is %s', (port, valid) => {
    expect(isValidPort(port)).toBe(valid);
  });

  it.each([
    ['host', true],
    ['host:5000', true],
    ['[::1]', true],
    ['[::1]:443', true],
    ['::1', true],
    ['host:0', false],
    ['host:65536', false],
    ['host:', false],
    ['[::1]:70000', false],
  ])('hasValidPort(%j) is %s', (authority, valid) => {
    expect(hasValidPort(authority)).toBe(valid);
  });
});

describe('stripPort, unbracket, joinHostPort', () => {
  it.each([
    ['[::1]:5000', '[::1]'],
    ['[::1]', '[::1]'],
    ['::1', '::1'],
    ['Host.Example:80', 'Host.Example'],
    ['host:', 'host'],
    ['host', 'host'],
  ])('stripPort(%j) is %j (brackets kept)', (authority, stripped) => {
    expect(stripPort(authority)).toBe(stripped);
  });

  it.each([
    ['[::1]', '::1'],
    ['[fd12::1]', 'fd12::1'],
    ['::1', '::1'],
    ['registry.example', 'registry.example'],
    ['[unclosed', '[unclosed'],
  ])('unbracket(%j) is %j', (host, bare) => {
    expect(unbracket(host)).toBe(bare);
  });

  it.each([
    ['::1', 5000, '[::1]:5000'],
    ['2001:db8::1', '443', '[2001:db8::1]:443'],
    ['127.0.0.1', 80, '127.0.0.1:80'],
    ['registry.example', 5000, 'registry.example:5000'],
  ])('joinHostPort(%j, %j) is %j', (host, port, authority) => {
    expect(joinHostPort(host, port)).toBe(authority);
  });

  it('round-trips: split(join(host, port)) gives host and port back', () => {
    for (const host of ['::1', 'fd12:3456::7', '10.0.0.1', 'registry.example']) {
      expect(splitHostPort(joinHostPort(host, 5000))).toEqual({ host, port: '5000' });
    }
  });
});
