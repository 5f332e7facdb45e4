import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { unbracket } from './host-port.js';
import { type Cidr, embeddedIPv4, inCidr, parseCidr, parseIp, specialPurpose } from './ip-address.js';

/** The `code` of the error the guard's `lookup` fails a connection with. */
export const deniedCode = 'EFERRYDENIED';

/**
 * The deployed service's SSRF guard: registry hosts, token realms, redirects, upload Locations
 * and `Link` pages may not reach an address that is not public unicast — loopback, link-local
 * (169.254.0.0/16: the metadata service), private, shared, multicast, reserved, documentation —
 * unless allow-listed. An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4, Teredo, …)
 * is judged by that IPv4 address too (see `ip-address.ts`).
 *
 * Names are checked on the addresses they resolve to, at connect time ({@link lookup}), so DNS
 * rebinding cannot slip past an earlier check; IP literals never reach a resolver, so the
 * transport asks {@link literalRefusal} before it connects. The CLI and `ferry serve` run without
 * a guard (local tools reach local registries).
 */
export class NetworkGuard {
  readonly #allowedHosts = new Set<string>();
  readonly #allowed: Cidr[] = [];

  /**
   * `allow`: host names (`registry.internal`: any address they resolve to) or networks
   * (`10.1.0.0/16`, `fd12::/64`, a bare address) the service may reach anyway.
   */
  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const cidr = parseCidr(entry);
      if (cidr !== undefined) this.#allowed.push(cidr);
      else if (entry.includes('/'))
        throw new Error(`network guard: "${entry}" is not a network (expected ADDRESS/BITS)`);
      else this.#allowedHosts.add(entry.toLowerCase());
    }
  }

  /**
   * Why `host` may not be reached at `address`, or undefined when it may. Refused when the
   * address, or an IPv4 address it embeds, is special-purpose and not allow-listed.
   */
  refusal(host: string, address: string): string | undefined {
    if (this.#allowedHosts.has(host.toLowerCase())) return undefined;
    const subject = host === address ? address : `${host} resolves to ${address},`;
    const bytes = parseIp(address);
    if (bytes === undefined) return `${subject} not an IP address`;
    for (const identity of [{ bytes, form: undefined }, ...embeddedIPv4(bytes)]) {
      const why = specialPurpose(identity.bytes);
      if (why === undefined || this.#allowed.some((cidr) => inCidr(identity.bytes, cidr))) continue;
      const embeds = identity.form === undefined ? '' : ` embeds ${identity.bytes.join('.')} (${identity.form}),`;
      const verb = host === address && identity.form === undefined ? ' is' : '';
      return `${subject}${embeds}${verb} not a public address (${why}): the service reaches loopback, link-local or private addresses only when allow-listed`;
    }
    return undefined;
  }

  /** For a URL whose host is an IP literal (which no resolver sees): why it may not be reached. Names yield undefined. */
  literalRefusal(url: URL): string | undefined {
    const address = unbracket(url.hostname);
    return parseIp(address) === undefined ? undefined : this.refusal(address, address);
  }

  /**
   * A `lookup` for `net.connect`/`tls.connect` (and so undici) that fails the connection when any
   * address of the name is refused. Node calls it with `{ all: true }` (happy eyeballs, the
   * default since Node 20: answer with the list) or without (answer with one address and family).
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => this.refusal(hostname, a.address)).find((r) => r !== undefined);
      if (refused !== undefined)
        return callback(Object.assign(new Error(`refused: ${refused}`), { code: deniedCode }), '', 0);
      const first = addresses[0];
      if (options.all === true) callback(null, addresses);
      else if (first === undefined)
        callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      else callback(null, first.address, first.family);
    });
  };
}
