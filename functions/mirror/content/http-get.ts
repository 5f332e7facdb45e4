import { RegistryError } from '../../oci/errors.js';
import { discardBody, headerValue, readCapped, readUpTo, redactUrl, type Transport } from '../../oci/transport.js';

/** How one GET of a non-registry URL (a chart repository, an update service, a signature store) goes. */
export interface HttpGetOptions {
  readonly accept: string;
  readonly maxBytes: number;
  /** Redirects followed (each hop through the same guard, never from https down to http); 0: none. */
  readonly redirects: number;
  /** The error for a body over `maxBytes` (each content type names its own). */
  readonly tooLarge: (message: string) => Error;
  /** The error for a URL whose scheme is refused. */
  readonly refused: (message: string) => Error;
}

/**
 * One GET over Ferry's {@link Transport} — its network guard, proxies, CA and insecure-host
 * settings apply as to registry requests: https, or plain http only for hosts the transport
 * treats as insecure (`--insecure`, loopback). The body (capped), or `undefined` for a 404; any
 * other non-200 is a {@link RegistryError} naming the URL (5xx and 429 retryable). Redirects are
 * followed only when asked (following one is how a guard is walked around).
 */
export async function httpGetBytes(
  transport: Pick<Transport, 'send' | 'isInsecure'>,
  input: string,
  options: HttpGetOptions,
): Promise<Buffer | undefined> {
  let url = new URL(input);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && transport.isInsecure(url.host)))
      throw options.refused(
        url.protocol === 'http:'
          ? `${redactUrl(url)}: plain http only for hosts marked insecure (--insecure ${url.host})`
          : `${redactUrl(url)}: only https URLs are read`,
      );
    const res = await transport.send({ method: 'GET', url, headers: { accept: options.accept } });
    const where = `GET ${redactUrl(url)}`;
    const location = headerValue(res.headers, 'location');
    if (res.status >= 300 && res.status < 400 && location !== undefined && hop < options.redirects) {
      discardBody(res.body);
      url = new URL(location, url);
      continue;
    }
    if (res.status === 404) {
      discardBody(res.body);
      return undefined;
    }
    if (res.status !== 200) {
      const body =
        res.status >= 300 && res.status < 400 ? (discardBody(res.body), '') : await readCapped(res.body, 512);
      const why =
        location !== undefined && res.status >= 300 && res.status < 400
          ? `redirected to ${location} (not followed)`
          : body.trim().slice(0, 200);
      throw new RegistryError(`${where}: status ${res.status}${why === '' ? '' : `: ${why}`}`, {
        registry: url.host,
        status: res.status,
      });
    }
    const { bytes, complete } = await readUpTo(res.body, options.maxBytes);
    if (!complete) throw options.tooLarge(`${where}: body larger than ${options.maxBytes} bytes`);
    return bytes;
  }
}
