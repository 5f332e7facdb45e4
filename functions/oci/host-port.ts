/**
 * `host[:port]` as registry names, `Host` headers, `NO_PROXY` entries and listen addresses write
 * it (RFC 3986 §3.2.2 authority, no user info). The one reading of it in Ferry: every caller that
 * splits off a port, strips IPv6 brackets or writes an authority comes here, so `[::1]:5000`,
 * `[::1]` and a bare `::1` mean one thing everywhere.
 */

/** An authority split: the host without IPv6 brackets, and the port as written (`''` for `host:`). */
export interface HostPort {
  readonly host: string;
  /** Undefined when there is no port at all; `''` after a trailing colon; not checked (see {@link isValidPort}). */
  readonly port: string | undefined;
}

/**
 * Splits `host:port`, `[v6]:port`, `[v6]`, a bare IPv6 address (more than one colon and no
 * brackets: all host, as Go's `net.SplitHostPort` refuses to guess) or a bare host. The port is
 * returned as written, so callers decide what an empty or out-of-range one means.
 */
export function splitHostPort(authority: string): HostPort {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(authority);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] };
  const colon = authority.indexOf(':');
  if (colon < 0 || authority.indexOf(':', colon + 1) >= 0) return { host: authority, port: undefined };
  return { host: authority.slice(0, colon), port: authority.slice(colon + 1) };
}

/** A TCP port as text: decimal digits only, 1-65535 (leading zeros allowed, as URLs allow them). */
export function isValidPort(port: string): boolean {
  return /^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

/** Whether an authority's port, if it has one, is valid: `host`, `host:5000`, `[::1]:443` are; `host:0`, `host:` are not. */
export function hasValidPort(authority: string): boolean {
  const { port } = splitHostPort(authority);
  return port === undefined || isValidPort(port);
}

/**
 * The authority without its `:port`, written as it was (`[::1]:5000` → `[::1]`, `Host:80` →
 * `Host`): for matching against host lists whose entries keep the brackets.
 */
export function stripPort(authority: string): string {
  const { port } = splitHostPort(authority);
  return port === undefined ? authority : authority.slice(0, authority.length - port.length - 1);
}

/** A host name or literal without IPv6 brackets (`[::1]` → `::1`), as `URL.hostname` is not. */
export function unbracket(host: string): string {
  return /^\[(.*)\]$/.exec(host)?.[1] ?? host;
}

/** `host:port`, with an IPv6 literal (any host with a colon, as Go's `net.JoinHostPort` decides) in brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
