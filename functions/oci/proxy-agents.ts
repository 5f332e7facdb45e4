import type { Agent as AgentType, buildConnector as buildConnectorType } from 'undici';
// WARNING: deep imports, as in transport.ts (the CLI bundle stays small); the connector is part of
// the agent's own code, so it costs nothing. test/unit/undici-deep-import.test.ts checks both.
import AgentClass from 'undici/lib/dispatcher/agent.js';
import buildConnectorFunction from 'undici/lib/core/connect.js';
import { causes } from './errors.js';
import { unbracket } from './host-port.js';
import type { NetworkGuard } from './network-guard.js';
import { absoluteForm, type ProxyEndpoint } from './proxy.js';
import { openTunnel } from './proxy-tunnel.js';

const Agent = AgentClass as unknown as typeof AgentType;
type Agent = AgentType;
const buildConnector = buildConnectorFunction as unknown as typeof buildConnectorType;

/** Where undici sends one request through a proxy. */
export interface ProxyRoute {
  readonly agent: Agent;
  readonly origin: string;
  readonly path: string;
  /** Headers for the proxy (absolute-form requests only): `host`, `proxy-authorization`. */
  readonly headers: Record<string, string>;
}

export interface ProxyAgentsOptions {
  /** The transport's pool settings (connections, keep-alive, timeouts). */
  readonly pool: AgentType.Options;
  readonly ca: string | Buffer | undefined;
  /** The longest wait for a proxy's answer to `CONNECT` (the transport's idle timeout). */
  readonly idleTimeoutMs: number;
  /** The deployed service's SSRF guard: tunnels then go to the checked address ({@link resolveTarget}). */
  readonly guard?: NetworkGuard | undefined;
}

/**
 * The undici agents that reach targets through forward proxies, made on first use: for https
 * targets a `CONNECT` tunnel per connection (an agent per proxy and TLS setting, its pools keyed
 * by target origin, TLS to the target over the tunnel, verified against the target's name); for
 * http targets absolute-form requests on keep-alive connections to the proxy (RFC 9112 §3.2.2),
 * with the proxy's credentials in `Proxy-Authorization`, which the proxy consumes. The proxy is
 * operator configuration: it is connected without the SSRF guard's lookup; under a guard each
 * tunnel is opened to the target's checked address, never its name ({@link resolveTarget}).
 */
export class ProxyAgents {
  readonly #options: ProxyAgentsOptions;
  readonly #agents = new Map<string, Agent>();
  /** Tunnels still being opened stop when the agents close (undici's connector sees no request's signal). */
  readonly #closing = new AbortController();

  constructor(options: ProxyAgentsOptions) {
    this.#options = options;
  }

  /**
   * The agent, origin, path and headers for one request. `address` (plain-http targets under a
   * guard): the checked address the absolute-form URL names instead of the host name.
   */
  route(url: URL, insecure: boolean, proxy: ProxyEndpoint, address?: string): ProxyRoute {
    if (url.protocol === 'https:')
      return {
        agent: this.#tunnelAgent(proxy, insecure),
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        headers: {},
      };
    const key = `forward ${proxy.url.href}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = new Agent(this.#options.pool);
      this.#agents.set(key, agent);
    }
    const headers: Record<string, string> = { host: url.host };
    if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization;
    return { agent, origin: proxy.url.origin, path: absoluteForm(url, address), headers };
  }

  #tunnelAgent(proxy: ProxyEndpoint, insecure: boolean): Agent {
    const key = `tunnel ${proxy.url.href} ${insecure}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      const { pool, ca, guard, idleTimeoutMs } = this.#options;
      // A custom `connect` bypasses the pool's connectTimeout: the TLS handshake gets the same bound here.
      const timeout = pool.connectTimeout ?? undefined;
      const tls = buildConnector({
        timeout,
        ...(insecure ? { rejectUnauthorized: false } : ca === undefined ? {} : { ca }),
      });
      agent = new Agent({
        ...pool,
        // `opts.hostname` stays the target's name: undici's connector takes the TLS servername
        // (and so the certificate check) from the origin, whatever address the tunnel reaches.
        connect: (opts, callback) => {
          const name = unbracket(opts.hostname);
          // Checked per connection: a pooled tunnel outlives the request that opened it.
          (guard === undefined ? Promise.resolve(name) : resolveTarget(guard, name))
            .then((address) =>
              openTunnel(proxy, address, Number(opts.port) || 443, {
                timeoutMs: idleTimeoutMs,
                signal: this.#closing.signal,
              }),
            )
            .then(
              (socket) => tls({ ...opts, httpSocket: socket }, callback),
              (err: Error) => callback(err, null),
            );
        },
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    this.#closing.abort(new Error('the transport was closed'));
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
  }
}

/**
 * Resolves a target name with the SSRF guard's check (an IP literal is checked as it is) and
 * returns the checked address the proxy is then sent instead of the name (`CONNECT <address>:port`,
 * or an absolute-form URL naming it); it rejects with the guard's refusal (`EFERRYDENIED`).
 *
 * WARNING: under a guard the proxy must never be sent the name: it would resolve it again, and
 * DNS rebinding (or a proxy whose DNS differs from the Lambda's, on EC2 with the metadata service
 * and the VPC in reach) would take it to an address the guard never saw. So the deployed service
 * resolves registry names itself, and its VPC needs DNS for them: a name that does not resolve
 * here fails at once and for good (`EFERRYPROXY`, not retryable), never after retries. The CLI and
 * `ferry serve` (no guard) send names, so proxies that allow-list domains and proxy-only DNS work.
 * A compliant proxy rewrites `Host` from an absolute-form URL (RFC 9110 §7.2), so a plain-http
 * registry reached through a proxy under a guard sees its address, not its name, in `Host`.
 */
export function resolveTarget(guard: NetworkGuard, hostname: string): Promise<string> {
  const name = unbracket(hostname);
  return new Promise((resolve, reject) => {
    guard.lookup(name, { all: true }, (err, addresses) => {
      if (err?.code === 'ENOTFOUND') return reject(unresolved(name, err));
      if (err) return reject(err);
      const first = Array.isArray(addresses) ? addresses[0]?.address : addresses;
      if (first === undefined || first === '') return reject(unresolved(name, undefined));
      resolve(first);
    });
  });
}

function unresolved(name: string, cause: Error | undefined): Error {
  const message =
    `${name} does not resolve here: the deployed service resolves registry names itself before asking the proxy ` +
    '(the SSRF guard checks the address the proxy is sent to), so its VPC needs DNS for them';
  return Object.assign(new Error(message, { cause }), { code: 'EFERRYPROXY', retryable: false });
}

/**
 * The failure of the route through a proxy, if that is what `err` (or a cause below it) is:
 * the proxy's refusal or failure (see {@link openTunnel}), or a name that does not resolve for
 * the guard's check ({@link resolveTarget}). Both carry `EFERRYPROXY` and their own `retryable`.
 */
export function proxyFailureOf(err: unknown): { message: string; retryable: boolean } | undefined {
  for (const cause of causes(err)) {
    if (cause instanceof Error && (cause as { code?: unknown }).code === 'EFERRYPROXY')
      return { message: cause.message, retryable: (cause as { retryable?: unknown }).retryable === true };
  }
  return undefined;
}
