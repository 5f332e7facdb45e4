import { RegistryError } from '../../oci/errors.js';
import { redactUrl, type Transport } from '../../oci/transport.js';
import { httpGetBytes } from '../content/http-get.js';
import { HelmError, helmLimits } from './errors.js';

/** What reading charts needs from the outside: a capped GET, and (CLI only) a capped file read. */
export interface HelmSources {
  /** The body of `GET url`, at most `maxBytes` (more is `HELM_TOO_LARGE`). */
  getBytes(url: string, maxBytes: number): Promise<Buffer>;
  /** A local chart file, at most `maxBytes`; absent where documents are not trusted (the API). */
  readLocal?(path: string, maxBytes: number): Promise<Buffer>;
}

/**
 * {@link HelmSources.getBytes} over Ferry's {@link Transport} (see `httpGetBytes`: its network
 * guard, proxies and CA apply; https, or http for hosts marked insecure); redirects (GitHub release
 * assets) followed up to `helmLimits.redirects`, never from https down to http; a 404 is an error.
 */
export function transportBytesGetter(transport: Pick<Transport, 'send' | 'isInsecure'>): Pick<HelmSources, 'getBytes'> {
  return {
    async getBytes(input: string, maxBytes: number): Promise<Buffer> {
      const bytes = await httpGetBytes(transport, input, {
        accept: '*/*',
        maxBytes,
        redirects: helmLimits.redirects,
        tooLarge: (message) => new HelmError('HELM_TOO_LARGE', message),
        refused: (message) => new HelmError('HELM_URL_REFUSED', message),
      });
      if (bytes === undefined)
        throw new RegistryError(`GET ${redactUrl(new URL(input))}: status 404`, {
          registry: new URL(input).host,
          status: 404,
        });
      return bytes;
    },
  };
}
