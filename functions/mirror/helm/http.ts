import { RegistryError } from '../../oci/errors.js';
import { discardBody, headerValue, readCapped, readUpTo, redactUrl, type Transport } from '../../oci/transport.js';
import { HelmError, helmLimits } from './errors.js';

/** What reading charts needs from the outside: a capped GET, and (CLI only) a capped file read. */
export interface HelmSources {
  /** The body of `GET url`, at most `maxBytes` (more is `HELM_TOO_LARGE`). */
  getBytes(url: string, maxBytes: number): Promise<Buffer>;
  /** A local chart file, at most `maxBytes`; absent where documents are not trusted (the API). */
  readLocal?(path: string, maxBytes: number): Promise<Buffer>;
}

/**
 * {@link HelmSources.getBytes} over Ferry's {@link Transport}: its network guard, proxies, CA and
 * insecure-host settings apply as to registry requests. https only, plain http only for hosts
 * the transport treats as insecure (`--insecure`, loopback); redirects (GitHub release assets)
 * followed up to `helmLimits.redirects`, each hop through the same guard and never from https
 * down to a secure host's http; a non-200 a {@link RegistryError} (5xx and 429 retryable).
 */
export function transportBytesGetter(transport: Pick<Transport, 'send' | 'isInsecure'>): Pick<HelmSources, 'getBytes'> {
  return {
    async getBytes(input: string, maxBytes: number): Promise<Buffer> {
      let url = new URL(input);
      for (let hop = 0; ; hop++) {
        refuseScheme(transport, url);
        const res = await transport.send({ method: 'GET', url, headers: { accept: '*/*' } });
        const where = `GET ${redactUrl(url)}`;
        const location = headerValue(res.headers, 'location');
        if (res.status >= 300 && res.status < 400 && location !== undefined && hop < helmLimits.redirects) {
          discardBody(res.body);
          url = new URL(location, url);
          continue;
        }
        if (res.status !== 200) {
          const body =
            res.status >= 300 && res.status < 400 ? (discardBody(res.body), '') : await readCapped(res.body, 512);
          throw new RegistryError(
            `${where}: status ${res.status}${body.trim() === '' ? '' : `: ${body.trim().slice(0, 200)}`}`,
            {
              registry: url.host,
              status: res.status,
            },
          );
        }
        const { bytes, complete } = await readUpTo(res.body, maxBytes);
        if (!complete) throw new HelmError('HELM_TOO_LARGE', `${where}: body larger than ${maxBytes} bytes`);
        return bytes;
      }
    },
  };
}

function refuseScheme(transport: Pick<Transport, 'isInsecure'>, url: URL): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && transport.isInsecure(url.host)) return;
  throw new HelmError(
    'HELM_URL_REFUSED',
    url.protocol === 'http:'
      ? `${redactUrl(url)}: plain http only for hosts marked insecure (--insecure ${url.host})`
      : `${redactUrl(url)}: only https chart repositories are read`,
  );
}
