import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A pull-limited front of a real registry, and what it did. */
export interface RateLimitedRegistry {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** Manifest GETs let through to the registry. */
  pulls(): number;
  /** 429s sent. */
  refusals(): number;
  close(): Promise<void>;
}

export interface RateLimitOptions {
  /** Pulls per window. */
  readonly limit: number;
  /** The window, whole seconds (`;w=` of the headers). */
  readonly windowSeconds: number;
  /** Header names to send: Docker Hub's (`ratelimit-limit: 5;w=1`) or the IETF draft's (`RateLimit-Limit: 5` + `RateLimit-Reset`). */
  readonly style?: 'docker-hub' | 'ietf';
}

const manifestGet = /^\/v2\/.+\/manifests\/[^/]+$/;

/**
 * Docker Hub's pull limit in front of a real docker-registry (`upstream`: its base URL), on
 * 127.0.0.1: a GET of a manifest is a pull; at most `limit` per window, a fixed window that starts
 * with the first pull after the last one ended (its own clock: the window is short, so nothing in
 * a test waits on it but Ferry). Manifest responses, HEADs included, carry the `ratelimit-*`
 * headers as Docker Hub sends them; a pull over the limit gets 429 TOOMANYREQUESTS with
 * `Retry-After`. Everything else is proxied untouched.
 */
export async function startRateLimitedRegistry(
  upstream: string,
  options: RateLimitOptions,
): Promise<RateLimitedRegistry> {
  const target = new URL(upstream);
  const windowMs = options.windowSeconds * 1000;
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;
  let pulls = 0;
  let refusals = 0;

  const limitHeaders = (now: number): Record<string, string> => {
    const remaining = now >= windowStart + windowMs ? options.limit : options.limit - used;
    if (options.style === 'ietf') {
      const reset = Math.max(0, Math.ceil((windowStart + windowMs - now) / 1000));
      return {
        'RateLimit-Limit': `${options.limit}`,
        'RateLimit-Remaining': `${remaining}`,
        'RateLimit-Reset': `${Number.isFinite(reset) ? reset : options.windowSeconds}`,
      };
    }
    const w = `;w=${options.windowSeconds}`;
    return { 'ratelimit-limit': `${options.limit}${w}`, 'ratelimit-remaining': `${remaining}${w}` };
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const isManifest = manifestGet.test(path);
    const now = Date.now();
    if (isManifest && req.method === 'GET') {
      if (now >= windowStart + windowMs) {
        windowStart = now;
        used = 0;
      }
      if (used >= options.limit) {
        refusals++;
        const body = JSON.stringify({
          errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }],
        });
        res.writeHead(429, {
          'content-type': 'application/json',
          'retry-after': String(Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000))),
          ...limitHeaders(now),
        });
        res.end(body);
        req.resume();
        return;
      }
      used++;
      pulls++;
    }
    const extra = isManifest ? limitHeaders(now) : {};
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, { ...up.headers, ...extra });
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  };

  const server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    pulls: () => pulls,
    refusals: () => refusals,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
