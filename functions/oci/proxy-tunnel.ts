import { connect as connectTcp, type Socket } from 'node:net';
import { joinHostPort } from './host-port.js';
import { parseStatusLine } from './http-head.js';
import type { ProxyEndpoint } from './proxy.js';

/** The proxy refused or failed a CONNECT: `EFERRYPROXY`, retryable for 5xx answers (the proxy's upstream failed). */
function proxyError(message: string, status: number | undefined): Error {
  return Object.assign(new Error(message), {
    code: 'EFERRYPROXY',
    status,
    retryable: status === undefined || status >= 500,
  });
}

const maxConnectHeadBytes = 16 * 1024;

/**
 * Opens a TCP connection to `proxy` and asks it for a tunnel to `host:port` (HTTP `CONNECT`,
 * RFC 9110 §9.3.6). Resolves with the raw socket once the proxy answered 2xx; TLS to the target
 * then runs over it. The proxy address is operator configuration: it is connected without the
 * SSRF guard. Under a guard, `host` is the target's checked address, not its name (the caller
 * resolves and checks it: see `resolveTarget` in proxy-agents.ts).
 */
export function openTunnel(
  proxy: ProxyEndpoint,
  host: string,
  port: number,
  options: { signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const authority = joinHostPort(host, port);
    const socket = connectTcp({ host: proxy.host, port: proxy.port });
    let head = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      socket.removeListener('data', onData);
      socket.setTimeout(0);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        // The TLS socket that wraps this one reads it and reports its errors.
        socket.on('error', () => undefined);
        resolve(socket);
      }
    };
    const onAbort = (): void =>
      finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > maxConnectHeadBytes)
          finish(proxyError(`proxy ${proxy.url.host} sent an oversized answer to CONNECT ${authority}`, undefined));
        return;
      }
      const code = parseStatusLine(head.toString('latin1', 0, end).split('\r\n', 1)[0]!);
      if (code === undefined)
        return finish(proxyError(`proxy ${proxy.url.host} sent a malformed answer to CONNECT ${authority}`, undefined));
      if (code < 200 || code > 299) {
        const hint = code === 407 ? ' (proxy authentication required: put user:password in the proxy URL)' : '';
        return finish(
          proxyError(`proxy ${proxy.url.host} answered CONNECT ${authority} with HTTP ${code}${hint}`, code),
        );
      }
      // The target speaks only after the client (TLS ClientHello): bytes here would be lost.
      if (head.length > end + 4)
        return finish(
          proxyError(`proxy ${proxy.url.host} sent data before the tunnel to ${authority} was used`, undefined),
        );
      finish(undefined);
    };
    socket.on('data', onData);
    // The proxy's own address in the message (the target's would mislead); the code stays for the retry layer.
    socket.once('error', (err: Error & { code?: string }) =>
      finish(Object.assign(new Error(`proxy ${proxy.url.host}: ${err.message}`, { cause: err }), { code: err.code })),
    );
    socket.once('close', () =>
      finish(
        Object.assign(
          new Error(`proxy ${proxy.url.host} closed the connection before answering CONNECT ${authority}`),
          { code: 'ECONNRESET' },
        ),
      ),
    );
    socket.setTimeout(options.timeoutMs, () =>
      finish(
        Object.assign(
          new Error(`proxy ${proxy.url.host} did not answer CONNECT ${authority} in ${options.timeoutMs} ms`),
          { code: 'ETIMEDOUT' },
        ),
      ),
    );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const lines = [`CONNECT ${authority} HTTP/1.1`, `host: ${authority}`];
    if (proxy.authorization !== undefined) lines.push(`proxy-authorization: ${proxy.authorization}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  });
}
