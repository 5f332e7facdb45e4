import { isIP } from 'node:net';
import { unbracket } from './host-port.js';

/**
 * IP addresses as bytes (4 for IPv4, 16 for IPv6) and the special-purpose ranges a server-side
 * fetcher must not reach. Parsed here rather than matched on strings: one IPv6 address has many
 * spellings (`::ffff:169.254.169.254` is printed `::ffff:a9fe:a9fe` by WHATWG URL), and several
 * IPv6 forms carry an IPv4 address that the network delivers to (mapped, NAT64, 6to4, Teredo).
 */

/** An address range: its first bytes and prefix length. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

interface SpecialRange extends Cidr {
  /** What the range is, for messages. */
  readonly what: string;
}

/** An IPv4 address embedded in an IPv6 one, and the form that embeds it. */
export interface EmbeddedIPv4 {
  readonly bytes: Uint8Array;
  readonly form: string;
}

/** Parses an IPv4 or IPv6 address (brackets and an IPv6 zone `%eth0` allowed) into 4 or 16 bytes. */
export function parseIp(text: string): Uint8Array | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const kind = isIP(bare);
  if (kind === 4) return parseV4(bare);
  if (kind === 6) return parseV6(bare);
  return undefined;
}

function parseV4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return Uint8Array.from(parts.map(Number));
}

function parseV6(text: string): Uint8Array | undefined {
  let s = text.split('%')[0]!.toLowerCase();
  const words: number[] = [];
  // A dotted IPv4 tail (`::ffff:1.2.3.4`) is the last two 16-bit words.
  const lastColon = s.lastIndexOf(':');
  const dotted = s.slice(lastColon + 1);
  let tailV4: Uint8Array | undefined;
  if (dotted.includes('.')) {
    tailV4 = parseV4(dotted);
    if (tailV4 === undefined) return undefined;
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined): string[] => (part === undefined || part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const v4Words = tailV4 === undefined ? [] : [(tailV4[0]! << 8) | tailV4[1]!, (tailV4[2]! << 8) | tailV4[3]!];
  const fill = 8 - head.length - tail.length - v4Words.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  for (const group of [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined;
    words.push(parseInt(group, 16));
  }
  words.push(...v4Words);
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const [address, bits, extra] = text.split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const bytes = parseIp(address);
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  return Number.isInteger(prefix) && prefix >= 0 && prefix <= max ? { bytes, bits: prefix } : undefined;
}

/** Whether `address` (4 or 16 bytes) lies in `cidr` (of the same family). */
export function inCidr(address: Uint8Array, cidr: Cidr): boolean {
  if (address.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.bits; bit += 8) {
    const left = Math.min(8, cidr.bits - bit);
    const mask = (0xff << (8 - left)) & 0xff;
    if ((address[bit / 8]! & mask) !== (cidr.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

function range(text: string, what: string): SpecialRange {
  const cidr = parseCidr(text);
  if (cidr === undefined) throw new Error(`bad built-in range ${text}`);
  return { ...cidr, what };
}

/** IPv4 ranges that are not globally reachable unicast (IANA special-purpose registry, RFC 6890 and successors). */
const deniedV4: readonly SpecialRange[] = [
  range('0.0.0.0/8', '"this network"'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'shared (carrier-grade NAT)'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local (cloud metadata)'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'IETF protocol assignment'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', '6to4 relay anycast'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved or broadcast'),
];

/** IPv6 ranges that are not globally reachable unicast. Forms that embed IPv4 are judged by their IPv4 address instead. */
const deniedV6: readonly SpecialRange[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('64:ff9b:1::/48', 'local-use NAT64'),
  range('100::/64', 'discard-only'),
  range('2001:2::/48', 'benchmarking'),
  range('2001:10::/28', 'ORCHID (deprecated)'),
  range('2001:20::/28', 'ORCHIDv2'),
  range('2001:db8::/32', 'documentation'),
  range('3fff::/20', 'documentation'),
  range('5f00::/16', 'SRv6 SIDs'),
  // fd00:ec2::254 is the EC2 metadata service over IPv6.
  range('fc00::/7', 'unique local (private)'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local'),
  range('ff00::/8', 'multicast'),
];

const v6 = (text: string): Cidr => range(text, '');
const mapped = v6('::ffff:0:0/96');
const translated = v6('::ffff:0:0:0/96');
const compatible = v6('::/96');
const nat64 = v6('64:ff9b::/96');
const sixToFour = v6('2002::/16');
const teredo = v6('2001::/32');

/**
 * Every IPv4 address an IPv6 address carries and that traffic to it may reach: IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, not
 * `::` or `::1`), NAT64 (`64:ff9b::a.b.c.d`), 6to4 (`2002:AABB:CCDD::`) and Teredo (`2001:0:SERVER::`
 * with the client's address inverted in the last 32 bits).
 */
export function embeddedIPv4(address: Uint8Array): EmbeddedIPv4[] {
  if (address.length !== 16) return [];
  const last = address.slice(12, 16);
  if (inCidr(address, mapped)) return [{ bytes: last, form: 'IPv4-mapped' }];
  if (inCidr(address, translated)) return [{ bytes: last, form: 'IPv4-translated' }];
  if (inCidr(address, compatible))
    return address[12] === 0 && address[13] === 0 && address[14] === 0 && address[15]! <= 1
      ? []
      : [{ bytes: last, form: 'IPv4-compatible' }];
  if (inCidr(address, nat64)) return [{ bytes: last, form: 'NAT64' }];
  if (inCidr(address, sixToFour)) return [{ bytes: address.slice(2, 6), form: '6to4' }];
  if (inCidr(address, teredo)) {
    return [
      { bytes: address.slice(4, 8), form: 'Teredo server' },
      { bytes: last.map((b) => b ^ 0xff), form: 'Teredo client' },
    ];
  }
  return [];
}

/** Why an address is not a public unicast address (`loopback`, `private`, …), or undefined when it is. */
export function specialPurpose(address: Uint8Array): string | undefined {
  return (address.length === 4 ? deniedV4 : deniedV6).find((r) => inCidr(address, r))?.what;
}

/**
 * `localhost`, 127.0.0.0/8 or ::1 (also IPv4-mapped, `::ffff:127.0.0.1`): a host name or literal without a port (brackets allowed). The
 * hosts Docker treats as this machine's own: plain HTTP allowed, `ferry serve` needing no token,
 * never proxied.
 */
export function isLoopbackName(host: string): boolean {
  const bare = unbracket(host.toLowerCase());
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  if (family === 4) return bare.startsWith('127.');
  const bytes = family === 6 ? parseIp(bare) : undefined;
  if (bytes === undefined || !bytes.subarray(0, 10).every((b) => b === 0)) return false;
  // ::1, or an IPv4-mapped loopback address (::ffff:127.x.y.z).
  return bytes.subarray(10, 15).every((b) => b === 0)
    ? bytes[15] === 1
    : bytes[10] === 0xff && bytes[11] === 0xff && bytes[12] === 127;
}
