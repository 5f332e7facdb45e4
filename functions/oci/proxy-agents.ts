import type { Agent as AgentType, buildConnector as buildConnectorType } from 'undici';
// WARNING: deep imports, as in transport.ts (the CLI bundle stays small); the connector is part of
// the agent's own code, so it costs nothing. test/unit/undici-deep-import.test.ts checks both.
import AgentClass from 'undici/lib/dispatcher/agent.js';
import buildConnectorFunction from 'undici/lib/core/connect.js';
import type { NetworkGuard } from './network-guard.js';
import { openTunnel, type ProxyEndpoint } from './proxy.js';

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

/**
 * The undici agents that reach targets through forward proxies, made on first use: for https
 * targets a `CONNECT` tunnel per connection (an agent per proxy and TLS setting, its pools keyed
 * by target origin, TLS to the target over the tunnel); for http targets absolute-form requests
 * on keep-alive connections to the proxy (RFC 9112 §3.2.2), with the proxy's credentials in
 * `Proxy-Authorization`, which the proxy consumes. The proxy is operator configuration: it is
 * connected without the SSRF guard's lookup (the transport checks the target, {@link checkTarget}).
 */
export class ProxyAgents {
  readonly #pool: AgentType.Options;
  readonly #ca: string | Buffer | undefined;
  readonly #agents = new Map<string, Agent>();
  readonly #tunnelTimeoutMs: number;

  constructor(pool: AgentType.Options, ca: string | Buffer | undefined, tunnelTimeoutMs = 120_000) {
    this.#pool = pool;
    this.#ca = ca;
    this.#tunnelTimeoutMs = tunnelTimeoutMs;
  }

  route(url: URL, insecure: boolean, proxy: ProxyEndpoint): ProxyRoute {
    const path = `${url.pathname}${url.search}`;
    if (url.protocol === 'https:') return { agent: this.#tunnelAgent(proxy, insecure), origin: url.origin, path, headers: {} };
    const key = `forward ${proxy.url.href}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = new Agent(this.#pool);
      this.#agents.set(key, agent);
    }
    const headers: Record<string, string> = { host: url.host };
    if (proxy.authorization !== undefined) headers['proxy-authorization'] = proxy.authorization;
    return { agent, origin: proxy.url.origin, path: `${url.origin}${path}`, headers };
  }

  #tunnelAgent(proxy: ProxyEndpoint, insecure: boolean): Agent {
    const key = `tunnel ${proxy.url.href} ${insecure}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      const tls = buildConnector(insecure ? { rejectUnauthorized: false } : this.#ca === undefined ? {} : { ca: this.#ca });
      agent = new Agent({
        ...this.#pool,
        connect: (opts, callback) => {
          openTunnel(proxy, opts.hostname.replace(/^\[|\]$/g, ''), Number(opts.port) || 443, { timeoutMs: this.#tunnelTimeoutMs })
            .then((socket) => tls({ ...opts, httpSocket: socket }, callback), (err: Error) => callback(err, null));
        },
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
  }
}

/**
 * Resolves a target name with the SSRF guard's check (an IP literal is checked as it is) and
 * rejects with its refusal (`EFERRYDENIED`). Through a proxy the target is never connected here,
 * so this is the guard's only look at it. WARNING: the proxy resolves the name again; a proxy that
 * can reach internal addresses should restrict its destinations itself.
 */
export function checkTarget(guard: NetworkGuard, hostname: string): Promise<void> {
  const name = hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    guard.lookup(name, { all: true }, (err) => (err ? reject(err) : resolve()));
  });
}

/** The proxy's own refusal or failure (`EFERRYPROXY`, see {@link openTunnel}), if that is what `err` is. */
export function proxyFailureOf(err: unknown): { message: string; retryable: boolean } | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 4; depth++, current = current.cause) {
    if ((current as { code?: unknown }).code === 'EFERRYPROXY') return { message: current.message, retryable: (current as { retryable?: unknown }).retryable === true };
  }
  return undefined;
}
