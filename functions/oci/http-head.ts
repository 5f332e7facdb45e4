/**
 * HTTP/1.1 response heads (RFC 9112 §4-5) as the two raw-socket paths read them: a proxy's answer
 * to `CONNECT` (proxy.ts) and a registry's response on a streamed exchange (stream-exchange.ts).
 * One reading of the status line for both, so a head one path accepts the other does too.
 */

/** A response head: the status code and the header fields, lower-case names, repeated fields as arrays. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
}

/**
 * The status code of `HTTP/1.x NNN[ reason]`, or undefined when the line is not one (another
 * protocol, a 4-digit code, a missing space). The reason phrase may be empty or absent (§4).
 */
export function parseStatusLine(line: string): number | undefined {
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(line);
  return status ? Number(status[1]) : undefined;
}

/** Parses a head without its final CRLFCRLF; undefined when the status line or any field line is malformed. */
export function parseHead(text: string): ResponseHead | undefined {
  const lines = text.split('\r\n');
  const status = parseStatusLine(lines[0] ?? '');
  if (status === undefined) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return { status, headers };
}
