import { RegistryError } from '../../oci/errors.js';
import { redactUrl, type Transport } from '../../oci/transport.js';
import { httpGetBytes } from '../content/http-get.js';
import type { JsonGetter } from './graph.js';
import { ReleaseError } from './errors.js';

/** The largest graph body read (the real `stable-4.x` graphs are a few hundred KB). */
export const maxGraphBytes = 32 * 1024 * 1024;

/** A GET of a non-registry URL (an update service, a signature store): the body, or undefined for a 404. */
export interface BytesGetter {
  getBytes(url: string, options: { accept: string; maxBytes: number }): Promise<Buffer | undefined>;
}

/**
 * {@link BytesGetter} over Ferry's {@link Transport} (see `httpGetBytes`: its network guard,
 * proxies and CA apply; https, or http for hosts marked insecure), no redirect followed (an
 * update service or a signature store answers directly; following one is how a guard is walked around).
 */
export function transportBytesGetter(transport: Pick<Transport, 'send' | 'isInsecure'>): BytesGetter {
  return {
    getBytes: (input, { accept, maxBytes }) =>
      httpGetBytes(transport, input, {
        accept,
        maxBytes,
        redirects: 0,
        tooLarge: (message) => new ReleaseError('RESPONSE_TOO_LARGE', message),
        refused: (message) => new ReleaseError('URL_REFUSED', message),
      }),
  };
}

/** {@link JsonGetter} on {@link transportBytesGetter}: a 404 is an error here (a graph must exist). */
export function transportJsonGetter(
  transport: Pick<Transport, 'send' | 'isInsecure'>,
  maxBytes = maxGraphBytes,
): JsonGetter {
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
