import { BlockList, isIP } from 'node:net';
import { basicAuthorization } from './auth/credentials.js';
import { joinHostPort, splitHostPort, unbracket } from './host-port.js';
import { isLoopbackName, parseIp } from './ip-address.js';
import { UsageError } from './errors.js';

/**
 * Forward-proxy settings as the environment states them (`HTTPS_PROXY`, `HTTP_PROXY`,
 * `NO_PROXY`; see {@link proxySettingsFromEnv}). The composition roots read the environment and
 * pass these in: nothing under `functions/oci` reads `process.env`.
 */
export interface ProxySettings {
  /** Proxy for `http://` targets (`HTTP_PROXY`). */
  readonly httpProxy?: string | undefined;
  /** Proxy for `https://` targets (`HTTPS_PROXY`). */
  readonly httpsProxy?: string | undefined;
  /** Hosts reached directly (`NO_PROXY`): see {@link NoProxy}. */
  readonly noProxy?: string | undefined;
}

/** The variables consulted, lower-case first: curl's order (Go reads upper-case first; both agree when only one is set). */
function envAny(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  for (const key of [name.toLowerCase(), name.toUpperCase()]) {
    const value = env[key]?.trim();
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/**
 * Proxy settings from an environment: `https_proxy`/`HTTPS_PROXY` for https targets,
 * `http_proxy`/`HTTP_PROXY` for http targets, `all_proxy`/`ALL_PROXY` for either when its own is
 * unset (curl), `no_proxy`/`NO_PROXY`. The lower-case form wins when both are set (curl); empty
 * values count as unset.
 */
export function proxySettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ProxySettings {
  const all = envAny(env, 'all_proxy');
  return {
    httpsProxy: envAny(env, 'https_proxy') ?? all,
    httpProxy: envAny(env, 'http_proxy') ?? all,
    noProxy: envAny(env, 'no_proxy'),
  };
}

/** A parsed proxy: where to connect, and the `Proxy-Authorization` its URL's credentials make. */
export interface ProxyEndpoint {
  /** `http://host:port/`, no credentials (for messages). */
  readonly url: URL;
  readonly host: string;
  readonly port: number;
  /** `Basic …` from the URL's user info; sent to the proxy only, never to a registry. */
  readonly authorization: string | undefined;
}

/**
 * Parses a proxy URL. A value without a scheme is `http://` (curl and Go); only `http://`
 * proxies are supported (the usual forward proxies: Squid, tinyproxy, corporate gateways).
 */
export function parseProxyUrl(value: string, variable = 'proxy'): ProxyEndpoint {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch (err) {
    throw new UsageError(`${variable}: "${redactProxyValue(value)}" is not a proxy URL`, { cause: err });
  }
  if (url.protocol !== 'http:')
    throw new UsageError(`${variable}: ${url.protocol}// proxies are not supported (use an http:// proxy URL)`);
  if (url.hostname === '') throw new UsageError(`${variable}: "${redactProxyValue(value)}" names no proxy host`);
  const authorization =
    url.username === '' && url.password === ''
      ? undefined
      : basicAuthorization(decodeURIComponent(url.username), decodeURIComponent(url.password));
  const host = unbracket(url.hostname);
  const port = Number(url.port) || 80;
  return { url: new URL(`http://${url.host}/`), host, port, authorization };
}

/** A proxy value for messages: user info dropped. */
function redactProxyValue(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//');
}

interface DomainMatch {
  /** With a leading dot. */
  readonly suffix: string;
  /** Whether the bare domain matches too (`foo.com` does; `.foo.com` and `*.foo.com` match subdomains only). */
  readonly exact: boolean;
  readonly port: string;
}

/**
 * `NO_PROXY` as Go's `golang.org/x/net/http/httpproxy` reads it: a comma list of
 * - `*`: every host;
 * - `foo.com`: foo.com and its subdomains; `.foo.com` and `*.foo.com`: subdomains only;
 * - IP addresses and CIDRs (`10.0.0.0/8`, `fd00::/8`), matched against IP-literal hosts (names are
 *   not resolved for this);
 * - any of those with `:port` (`[::1]:5000` for IPv6), then only that port matches.
 * localhost and loopback addresses are always direct (Go's rule; curl would proxy them).
 */
export class NoProxy {
  readonly #all: boolean;
  readonly #domains: DomainMatch[] = [];
  readonly #ips: { readonly ip: string; readonly port: string }[] = [];
  readonly #nets = new BlockList();

  constructor(value = '') {
    let all = false;
    for (const raw of value.split(',')) {
      const entry = raw.trim().toLowerCase();
      if (entry === '') continue;
      if (entry === '*') {
        all = true;
        break;
      }
      const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
      if (cidr && isIP(cidr[1]!) !== 0) {
        const family = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
        const bits = Number(cidr[2]);
        if (bits <= (family === 'ipv4' ? 32 : 128)) this.#nets.addSubnet(cidr[1]!, bits, family);
        continue;
      }
      const split = splitHostPort(entry);
      // `:port`, `host:` and `host:name` name nothing a request could match: skipped.
      if (split.host === '' || (split.port !== undefined && !/^\d+$/.test(split.port))) continue;
      const host = split.host;
      const port = split.port ?? '';
      if (isIP(host) !== 0) {
        this.#ips.push({ ip: host, port });
        continue;
      }
      const name = host.replace(/^\*\./, '.').replace(/\.$/, '');
      this.#domains.push(
        name.startsWith('.') ? { suffix: name, exact: false, port } : { suffix: `.${name}`, exact: true, port },
      );
    }
    this.#all = all;
  }

  /**
   * Whether a request to `hostname` on `port` goes direct. `hostname` as in a URL's `hostname`
   * (IPv6 in brackets or not).
   */
  bypasses(hostname: string, port: number | string): boolean {
    const host = unbracket(hostname.toLowerCase()).replace(/\.$/, '');
    const portText = String(port);
    if (isLoopback(host)) return true;
    if (this.#all) return true;
    const family = isIP(host);
    if (family !== 0) {
      if (this.#ips.some((m) => sameIp(m.ip, host) && (m.port === '' || m.port === portText))) return true;
      return this.#nets.check(host, family === 4 ? 'ipv4' : 'ipv6');
    }
    return this.#domains.some(
      (m) =>
        (host.endsWith(m.suffix) || (m.exact && host === m.suffix.slice(1))) && (m.port === '' || m.port === portText),
    );
  }
}

/** The same address however it is spelt (`::1` and `0:0::1`); compared as bytes, no list built per request. */
function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== undefined && y !== undefined && x.length === y.length && x.every((byte, i) => byte === y[i]);
}

function isLoopback(host: string): boolean {
  return host.endsWith('.localhost') || isLoopbackName(host);
}

/**
 * Which proxy, if any, a request URL goes through: the scheme's proxy unless `NO_PROXY` (or
 * loopback) says direct. Built once per transport from {@link ProxySettings}; invalid settings
 * fail here, at start-up, with the variable named.
 */
export class ProxyRoutes {
  readonly #http: ProxyEndpoint | undefined;
  readonly #https: ProxyEndpoint | undefined;
  readonly #noProxy: NoProxy;

  constructor(settings: ProxySettings = {}) {
    this.#http =
      settings.httpProxy === undefined ? undefined : parseProxyUrl(settings.httpProxy, 'HTTP_PROXY (or ALL_PROXY)');
    this.#https =
      settings.httpsProxy === undefined ? undefined : parseProxyUrl(settings.httpsProxy, 'HTTPS_PROXY (or ALL_PROXY)');
    this.#noProxy = new NoProxy(settings.noProxy);
  }

  /** Whether any proxy is configured at all. */
  get enabled(): boolean {
    return this.#http !== undefined || this.#https !== undefined;
  }

  /** The proxy for this URL, or undefined to connect directly. */
  forUrl(url: URL): ProxyEndpoint | undefined {
    const proxy = url.protocol === 'https:' ? this.#https : url.protocol === 'http:' ? this.#http : undefined;
    if (proxy === undefined) return undefined;
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return this.#noProxy.bypasses(url.hostname, port) ? undefined : proxy;
  }
}

/**
 * A request target in absolute form (RFC 9112 §3.2.2) for a proxy: the URL, or with `address`
 * (the checked address, IPv6 in brackets) in place of its host name and the port spelled out.
 */
export function absoluteForm(url: URL, address?: string): string {
  const path = `${url.pathname}${url.search}`;
  if (address === undefined) return `${url.origin}${path}`;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return `${url.protocol}//${joinHostPort(address, port)}${path}`;
}
