import { RegistryError } from '../../oci/errors.js';
import { discardBody, headerValue, readCapped, readUpTo, redactUrl, type Transport } from '../../oci/transport.js';
import type { JsonGetter } from './graph.js';
import { ReleaseError } from './errors.js';

/** The largest graph body read (the real `stable-4.x` graphs are a few hundred KB). */
export const maxGraphBytes = 32 * 1024 * 1024;

/**
 * {@link JsonGetter} over Ferry's {@link Transport}: its SSRF guard, proxies, CA and insecure-host
 * settings apply as to registry requests. One GET with `Accept: application/json`, no redirect
 * followed (an update service answers directly; following one is how a guard is walked around),
 * a non-200 a {@link RegistryError} (5xx and 429 retryable), the body capped at `maxBytes`.
 */
export function transportJsonGetter(transport: Transport, maxBytes = maxGraphBytes): JsonGetter {
  return {
    async getJson(input: string): Promise<unknown> {
      const url = new URL(input);
      const res = await transport.send({ method: 'GET', url, headers: { accept: 'application/json' } });
      const where = `GET ${redactUrl(url)}`;
      if (res.status !== 200) {
        const body =
          res.status >= 300 && res.status < 400 ? (discardBody(res.body), '') : await readCapped(res.body, 512);
        const location = headerValue(res.headers, 'location');
        const why = location === undefined ? body.trim().slice(0, 200) : `redirected to ${location} (not followed)`;
        // RegistryError: 5xx and 429 are retryable, as a registry's; the message names the update service.
        throw new RegistryError(`${where}: status ${res.status}${why === '' ? '' : `: ${why}`}`, {
          registry: url.host,
          status: res.status,
        });
      }
      const { bytes, complete } = await readUpTo(res.body, maxBytes);
      if (!complete) throw new ReleaseError('UPDATE_GRAPH_INVALID', `${where}: body larger than ${maxBytes} bytes`);
      try {
        return JSON.parse(bytes.toString('utf8')) as unknown;
      } catch (err) {
        throw new ReleaseError('UPDATE_GRAPH_INVALID', `${where}: body is not JSON`, { cause: err });
      }
    },
  };
}
