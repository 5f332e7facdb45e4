import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * The deployed service's SSRF guard: registry hosts, token realms, redirects and upload
 * Locations may not resolve to loopback, link-local (169.254.0.0/16: the metadata service) or
 * private ranges unless allow-listed. Checked on the resolved address at connect time, so DNS
 * rebinding cannot slip past a check made earlier.
 */
export class NetworkGuard {
  readonly #denied = new BlockList();
  readonly #allowedHosts: Set<string>;
  readonly #allowed = new BlockList();

  /** `allow`: host names (`registry.internal`) or CIDRs (`10.1.0.0/16`) the service may reach anyway. */
  constructor(allow: readonly string[] = []) {
    for (const [net, prefix] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16], ['100.64.0.0', 10], ['0.0.0.0', 8]] as const) {
      this.#denied.addSubnet(net, prefix, 'ipv4');
    }
    for (const [net, prefix] of [['::1', 128], ['fc00::', 7], ['fe80::', 10], ['::', 128]] as const) this.#denied.addSubnet(net, prefix, 'ipv6');
    this.#allowedHosts = new Set();
    for (const entry of allow) {
      const [net, bits] = entry.split('/');
      if (net !== undefined && isIP(net) !== 0) this.#allowed.addSubnet(net, Number(bits ?? (isIP(net) === 4 ? 32 : 128)), isIP(net) === 4 ? 'ipv4' : 'ipv6');
      else this.#allowedHosts.add(entry.toLowerCase());
    }
  }

  /** Why an address may not be reached, or undefined when it may. */
  refusal(host: string, address: string): string | undefined {
    if (this.#allowedHosts.has(host.toLowerCase())) return undefined;
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const mapped = family === 'ipv6' && address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : undefined;
    const check = mapped ?? address;
    const checkFamily = mapped ? 'ipv4' : family;
    if (this.#allowed.check(check, checkFamily)) return undefined;
    if (this.#denied.check(check, checkFamily)) return `${host} resolves to ${address}, a loopback, link-local or private address (allow-list it to reach it)`;
    return undefined;
  }

  /** A `lookup` for sockets that refuses forbidden addresses at connect time. */
  readonly lookup = (hostname: string, options: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const refused = list.map((a) => this.refusal(hostname, a.address)).find((r) => r !== undefined);
      if (refused) return callback(Object.assign(new Error(`refused: ${refused}`), { code: 'EFERRYDENIED' }), '', 0);
      if ((options as { all?: boolean }).all) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
