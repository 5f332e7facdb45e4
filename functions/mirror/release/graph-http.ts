import { RegistryError } from '../../oci/errors.js';
import { discardBody, headerValue, readCapped, readUpTo, redactUrl, type Transport } from '../../oci/transport.js';
import type { JsonGetter } from './graph.js';
import { ReleaseError } from './errors.js';

/** The largest graph body read (the real `stable-4.x` graphs are a few hundred KB). */
export const maxGraphBytes = 32 * 1024 * 1024;

/** A GET of a non-registry URL (an update service, a signature store): the body, or undefined for a 404. */
export interface BytesGetter {
  getBytes(url: string, options: { accept: string; maxBytes: number }): Promise<Buffer | undefined>;
}

/**
 * {@link BytesGetter} over Ferry's {@link Transport}: its SSRF guard, proxies, CA and insecure-host
 * settings apply as to registry requests. One GET, no redirect followed (an update service or a
 * signature store answers directly; following one is how a guard is walked around), a 404
 * undefined, any other non-200 a {@link RegistryError} (5xx and 429 retryable), the body capped.
 */
export function transportBytesGetter(transport: Transport): BytesGetter {
  return {
    async getBytes(input, { accept, maxBytes }) {
      const url = new URL(input);
      const res = await transport.send({ method: 'GET', url, headers: { accept } });
      const where = `GET ${redactUrl(url)}`;
      if (res.status === 404) {
        discardBody(res.body);
        return undefined;
      }
      if (res.status !== 200) {
        const body =
          res.status >= 300 && res.status < 400 ? (discardBody(res.body), '') : await readCapped(res.body, 512);
        const location = headerValue(res.headers, 'location');
        const why = location === undefined ? body.trim().slice(0, 200) : `redirected to ${location} (not followed)`;
        // RegistryError: 5xx and 429 are retryable, as a registry's; the message names the URL.
        throw new RegistryError(`${where}: status ${res.status}${why === '' ? '' : `: ${why}`}`, {
          registry: url.host,
          status: res.status,
        });
      }
      const { bytes, complete } = await readUpTo(res.body, maxBytes);
      if (!complete) throw new ReleaseError('RESPONSE_TOO_LARGE', `${where}: body larger than ${maxBytes} bytes`);
      return bytes;
    },
  };
}

/** {@link JsonGetter} on {@link transportBytesGetter}: a 404 is an error here (a graph must exist). */
export function transportJsonGetter(transport: Transport, maxBytes = maxGraphBytes): JsonGetter {
  const getter = transportBytesGetter(transport);
  return {
    async getJson(input: string): Promise<unknown> {
      const where = `GET ${redactUrl(new URL(input))}`;
      const bytes = await getter.getBytes(input, { accept: 'application/json', maxBytes });
      if (bytes === undefined)
        throw new RegistryError(`${where}: status 404`, { registry: new URL(input).host, status: 404 });
      try {
        return JSON.parse(bytes.toString('utf8')) as unknown;
      } catch (err) {
        throw new ReleaseError('UPDATE_GRAPH_INVALID', `${where}: body is not JSON`, { cause: err });
      }
    },
  };
}
